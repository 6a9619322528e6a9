namespace ComfyOperator.Kubernetes.Models;

public sealed class StatusCause
{
    /// <summary>The cause type, e.g. FieldValueInvalid (its JSON key is <c>reason</c>).</summary>
    public string? Reason { get; set; }

    public string? Message { get; set; }

    public string? Field { get; set; }
}
