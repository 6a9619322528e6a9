using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class WidgetStatus
{
    public string? Phase { get; set; }

    public int? Replicas { get; set; }

    public long? ObservedGeneration { get; set; }

    public IList<V1Condition>? Conditions { get; set; }
}
