using ComfyOperator.Kubernetes.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class WidgetStatus
{
    public string? Phase { get; set; }

    public int? Replicas { get; set; }

    public long? ObservedGeneration { get; set; }

    public IList<Condition>? Conditions { get; set; }
}
