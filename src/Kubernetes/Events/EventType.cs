namespace ComfyOperator.Kubernetes.Events;

/// <summary>The two values of a core/v1 Event's <c>type</c>.</summary>
public static class EventType
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";
}
