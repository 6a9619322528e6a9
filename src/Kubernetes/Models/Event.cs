namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 Event (the legacy events API kubectl describe reads).</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "Event", PluralName = "events")]
public sealed class Event : KubernetesObject
{
    public ObjectReference InvolvedObject { get; set; } = new();

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public string? Type { get; set; }

    public EventSource? Source { get; set; }

    public DateTimeOffset? FirstTimestamp { get; set; }

    public DateTimeOffset? LastTimestamp { get; set; }

    public int? Count { get; set; }

    [MicroTime]
    public DateTimeOffset? EventTime { get; set; }

    public EventSeries? Series { get; set; }

    public string? Action { get; set; }

    public ObjectReference? Related { get; set; }

    public string? ReportingComponent { get; set; }

    public string? ReportingInstance { get; set; }
}
