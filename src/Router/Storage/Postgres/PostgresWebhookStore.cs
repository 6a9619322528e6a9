using ComfyOperator.Router.Webhooks;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="IWebhookStore"/> in the <c>webhook_deliveries</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresWebhookStore(PostgresRouterDatabase database) : IWebhookStore
{
    private const string Columns = "id, run_id, event, url, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at";

    private const string Insert = """
        INSERT INTO webhook_deliveries (id, run_id, event, url, body, status, attempts, created_at, next_attempt_at)
        VALUES (@id, @run, @event, @url, @body, 'pending', 0, @now, @now)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>
    /// Due rows locked and pushed to the lease's end in one statement; SKIP LOCKED makes a concurrent
    /// claim (another router) pass over rows this one is claiming instead of claiming them too.
    /// </summary>
    private const string ClaimDue = """
        WITH due AS (
            SELECT id, next_attempt_at FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit
            FOR UPDATE SKIP LOCKED),
        claimed AS (
            UPDATE webhook_deliveries w SET next_attempt_at = @until FROM due WHERE w.id = due.id
            RETURNING w.id, w.run_id, w.event, w.url, w.body, w.attempts, w.created_at, due.next_attempt_at AS due_at)
        SELECT id, run_id, event, url, body, attempts, created_at FROM claimed ORDER BY due_at, id
        """;

    private const string UpdateAttempt = """
        UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = @now, last_status_code = @code, last_error = @error,
            status = @status, next_attempt_at = @next, delivered_at = @delivered
        WHERE id = @id
        """;

    private const string SelectByRun = $"SELECT {Columns} FROM webhook_deliveries WHERE run_id = @run ORDER BY created_at, id";

    public Task<bool> EnqueueAsync(string id, string runId, string type, string url, string body, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Insert);
                Add(command, "id", NpgsqlDbType.Text, id);
                Add(command, "run", NpgsqlDbType.Text, runId);
                Add(command, "event", NpgsqlDbType.Text, type);
                Add(command, "url", NpgsqlDbType.Text, url);
                Add(command, "body", NpgsqlDbType.Text, body);
                Add(command, "now", NpgsqlDbType.Bigint, now.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<IReadOnlyList<PendingWebhook>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<PendingWebhook>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, ClaimDue);
                Add(command, "now", NpgsqlDbType.Bigint, now.ToUnixTimeMilliseconds());
                Add(command, "until", NpgsqlDbType.Bigint, (now + lease).ToUnixTimeMilliseconds());
                Add(command, "limit", NpgsqlDbType.Integer, limit);
                var due = new List<PendingWebhook>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    due.Add(new PendingWebhook(
                        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        reader.GetInt32(5), Time(reader.GetInt64(6))));
                }

                return due;
            },
            cancellationToken);

    public Task RecordAttemptAsync(
        string id, bool delivered, DateTimeOffset now, DateTimeOffset? nextAttempt, int? statusCode, string? error, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, UpdateAttempt);
                Add(command, "id", NpgsqlDbType.Text, id);
                Add(command, "now", NpgsqlDbType.Bigint, now.ToUnixTimeMilliseconds());
                Add(command, "code", NpgsqlDbType.Integer, statusCode);
                Add(command, "error", NpgsqlDbType.Text, error);
                Add(command, "status", NpgsqlDbType.Text, delivered ? WebhookDelivery.Delivered : nextAttempt is null ? WebhookDelivery.Failed : WebhookDelivery.Pending);
                Add(command, "next", NpgsqlDbType.Bigint, (nextAttempt ?? now).ToUnixTimeMilliseconds());
                Add(command, "delivered", NpgsqlDbType.Bigint, delivered ? now.ToUnixTimeMilliseconds() : null);
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ListAsync(string runId, CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<WebhookDelivery>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectByRun);
                Add(command, "run", NpgsqlDbType.Text, runId);
                var list = new List<WebhookDelivery>();
                await using var reader = await command.ExecuteReaderAsync(ct);
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
