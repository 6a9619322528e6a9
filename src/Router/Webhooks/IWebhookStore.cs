namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// The persisted webhook delivery queue, on the router database. One delivery per (run, event, url):
/// enqueueing it again adds nothing, so a restart that replays a run's end never sends a second
/// success. Database failures throw <see cref="Storage.StorageException"/>.
/// </summary>
internal interface IWebhookStore
{
    /// <summary>Adds a delivery unless one exists for the same run, event and URL; true when it was added.</summary>
    Task<bool> EnqueueAsync(string id, string runId, string type, string url, string body, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Pending deliveries due at <paramref name="now"/>, the longest due first.</summary>
    Task<IReadOnlyList<PendingWebhook>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Records one attempt: delivered, retry at <paramref name="nextAttempt"/>, or failed for good when that is null.</summary>
    Task RecordAttemptAsync(string id, bool delivered, DateTimeOffset now, DateTimeOffset? nextAttempt, int? statusCode, string? error, CancellationToken cancellationToken);

    /// <summary>Every delivery of <paramref name="runId"/>, oldest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListAsync(string runId, CancellationToken cancellationToken);
}
