namespace ComfyOperator.Observability;

/// <summary>
/// The log event ids of this assembly, all in 8000–8999. Each assembly has its own range so that no
/// two messages share an id in one process (the operator loads Kubernetes, Operator, Comfy and
/// Observability; the router loads Router, Comfy, Kubernetes and Observability).
/// </summary>
internal static class EventIds
{
    public const int RangeStart = 8000;
    public const int RangeEnd = 8999;

    public const int MetricsListenerListening = 8001;
}
