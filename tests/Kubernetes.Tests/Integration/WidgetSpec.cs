namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class WidgetSpec
{
    public string? Color { get; set; }

    public int? Replicas { get; set; }
}
