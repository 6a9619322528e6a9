namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// The persisted webhook delivery queue, on the router database. One delivery per (run, event, url):
/// enqueueing it again adds nothing, so a restart that replays a run's end never sends a second
/// success. Routers sharing the database claim deliveries (<see cref="ClaimDueAsync"/>), so each
/// attempt is made by one of them. Database failures throw <see cref="Storage.StorageException"/>.
/// </summary>
internal interface IWebhookStore
{
    /// <summary>Adds a delivery unless one exists for the same run, event and URL; true when it was added.</summary>
    Task<bool> EnqueueAsync(string id, string runId, string type, string url, string body, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="limit"/> pending deliveries due at <paramref name="now"/>, the longest
    /// due first: each is due again, for this router or any other on the same database, only at
    /// <paramref name="now"/> + <paramref name="lease"/>, unless its attempt is recorded before. Two
    /// concurrent claims never return the same delivery.
    /// </summary>
    Task<IReadOnlyList<PendingWebhook>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>Records one attempt: delivered, retry at <paramref name="nextAttempt"/>, or failed for good when that is null.</summary>
    Task RecordAttemptAsync(string id, bool delivered, DateTimeOffset now, DateTimeOffset? nextAttempt, int? statusCode, string? error, CancellationToken cancellationToken);

    /// <summary>Every delivery of <paramref name="runId"/>, oldest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListAsync(string runId, CancellationToken cancellationToken);
}
