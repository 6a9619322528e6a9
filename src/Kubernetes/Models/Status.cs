namespace ComfyOperator.Kubernetes.Models;

/// <summary>The API's <c>Status</c> kind: error bodies and some DELETE answers.</summary>
public sealed class Status : IKubernetesObject
{
    public string? ApiVersion { get; set; } = "v1";

    public string? Kind { get; set; } = "Status";

    /// <summary><c>Success</c> or <c>Failure</c>.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("status")]
    public string? Outcome { get; set; }

    public string? Message { get; set; }

    /// <summary>Machine reason: NotFound, AlreadyExists, Conflict, Invalid, Expired, Gone...</summary>
    public string? Reason { get; set; }

    public StatusDetails? Details { get; set; }

    public int? Code { get; set; }
}
