using ComfyOperator.Router.Webhooks;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="IWebhookStore"/> in the <c>webhook_deliveries</c> table of the router's SQLite database.</summary>
internal sealed class SqliteWebhookStore(SqliteRouterDatabase database) : IWebhookStore
{
    private const string Columns = "id, run_id, event, url, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at";

    private const string Insert = """
        INSERT OR IGNORE INTO webhook_deliveries (id, run_id, event, url, body, status, attempts, created_at, next_attempt_at)
        VALUES ($id, $run, $event, $url, $body, 'pending', 0, $now, $now)
        """;

    private const string SelectDue = """
        SELECT id, run_id, event, url, body, attempts, created_at FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= $now ORDER BY next_attempt_at, id LIMIT $limit
        """;

    private const string Claim = "UPDATE webhook_deliveries SET next_attempt_at = $until WHERE id = $id";

    private const string UpdateAttempt = """
        UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $now, last_status_code = $code, last_error = $error,
            status = $status, next_attempt_at = $next, delivered_at = $delivered
        WHERE id = $id
        """;

    private const string SelectByRun = $"SELECT {Columns} FROM webhook_deliveries WHERE run_id = $run ORDER BY created_at, id";

    public Task<bool> EnqueueAsync(string id, string runId, string type, string url, string body, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Insert);
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$run", runId);
                command.Parameters.AddWithValue("$event", type);
                command.Parameters.AddWithValue("$url", url);
                command.Parameters.AddWithValue("$body", body);
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    /// <summary>Read and claimed in one write transaction: the write gate makes concurrent claims take turns.</summary>
    public Task<IReadOnlyList<PendingWebhook>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<PendingWebhook>>(
            async (session, ct) =>
            {
                var command = session.Command(SelectDue);
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$limit", limit);
                var due = new List<PendingWebhook>();
                using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    due.Add(new PendingWebhook(
                        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        reader.GetInt32(5), Time(reader.GetInt64(6))));
                }

                reader.Close();
                foreach (var delivery in due)
                {
                    var claim = session.Command(Claim);
                    claim.Parameters.AddWithValue("$id", delivery.Id);
                    claim.Parameters.AddWithValue("$until", (now + lease).ToUnixTimeMilliseconds());
                    await claim.ExecuteNonQueryAsync(ct);
                }

                return due;
            },
            cancellationToken);

    public Task RecordAttemptAsync(
        string id, bool delivered, DateTimeOffset now, DateTimeOffset? nextAttempt, int? statusCode, string? error, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(UpdateAttempt);
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$code", (object?)statusCode ?? DBNull.Value);
                command.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
                command.Parameters.AddWithValue("$status", delivered ? WebhookDelivery.Delivered : nextAttempt is null ? WebhookDelivery.Failed : WebhookDelivery.Pending);
                command.Parameters.AddWithValue("$next", (nextAttempt ?? now).ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$delivered", delivered ? now.ToUnixTimeMilliseconds() : DBNull.Value);
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ListAsync(string runId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<WebhookDelivery>>(
            async (session, ct) =>
            {
                var command = session.Command(SelectByRun);
                command.Parameters.AddWithValue("$run", runId);
                var list = new List<WebhookDelivery>();
                using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    list.Add(new WebhookDelivery(
                        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
                        Time(reader.GetInt64(6)), Time(reader.GetInt64(7)),
                        reader.IsDBNull(8) ? null : Time(reader.GetInt64(8)),
                        reader.IsDBNull(9) ? null : reader.GetInt32(9),
                        reader.IsDBNull(10) ? null : reader.GetString(10),
                        reader.IsDBNull(11) ? null : Time(reader.GetInt64(11))));
                }

                return list;
            },
            cancellationToken);

    private static DateTimeOffset Time(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
