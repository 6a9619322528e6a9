namespace ComfyOperator.Router.Webhooks;

/// <summary>A due delivery with its body, as the dispatcher reads it.</summary>
internal sealed record PendingWebhook(string Id, string RunId, string Event, string Url, string Body, int Attempts, DateTimeOffset CreatedAt);
