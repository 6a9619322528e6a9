namespace ComfyOperator.Router.Webhooks;

/// <summary>One webhook delivery (one event of one run to one URL) and how it went.</summary>
internal sealed record WebhookDelivery(
    string Id,
    string RunId,
    string Event,
    string Url,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? LastAttemptAt,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset? DeliveredAt)
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}
