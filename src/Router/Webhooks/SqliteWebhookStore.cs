using ComfyOperator.Router.Storage;
using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// Webhook deliveries in their own table of the router's SQLite file (opened the way the run store
/// opens it: WAL, busy timeout, one connection behind a gate). Enqueue is idempotent on
/// (run id, event, url), so a restart that replays a run's end never sends a second success.
/// </summary>
internal sealed class SqliteWebhookStore : IAsyncDisposable, IDisposable
{
    private const string Columns = "id, run_id, event, url, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            event TEXT NOT NULL,
            url TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            last_attempt_at INTEGER NULL,
            last_status_code INTEGER NULL,
            last_error TEXT NULL,
            delivered_at INTEGER NULL,
            UNIQUE (run_id, event, url));
        CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        """;

    private readonly SqliteGatedConnection _database;

    public SqliteWebhookStore(string path)
    {
        _database = new SqliteGatedConnection(path, Schema);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => _database.InitializeAsync(cancellationToken);

    /// <summary>Adds a delivery unless one exists for the same run, event and URL; true when it was added.</summary>
    public Task<bool> EnqueueAsync(string id, string runId, string type, string url, string body, DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(
            async connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = """
                    INSERT OR IGNORE INTO webhook_deliveries (id, run_id, event, url, body, status, attempts, created_at, next_attempt_at)
                    VALUES ($id, $run, $event, $url, $body, 'pending', 0, $now, $now)
                    """;
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$run", runId);
                command.Parameters.AddWithValue("$event", type);
                command.Parameters.AddWithValue("$url", url);
                command.Parameters.AddWithValue("$body", body);
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            },
            cancellationToken);

    public Task<IReadOnlyList<PendingWebhook>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<PendingWebhook>>(
            async connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = """
                    SELECT id, run_id, event, url, body, attempts, created_at FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= $now ORDER BY next_attempt_at LIMIT $limit
                    """;
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$limit", limit);
                var due = new List<PendingWebhook>();
                using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    due.Add(new PendingWebhook(
                        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        reader.GetInt32(5), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
                }

                return due;
            },
            cancellationToken);

    /// <summary>Records one attempt: delivered, retry at <paramref name="nextAttempt"/>, or failed for good when that is null.</summary>
    public Task RecordAttemptAsync(
        string id, bool delivered, DateTimeOffset now, DateTimeOffset? nextAttempt, int? statusCode, string? error, CancellationToken cancellationToken) =>
        WithConnectionAsync(
            async connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = """
                    UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $now, last_status_code = $code, last_error = $error,
                        status = $status, next_attempt_at = $next, delivered_at = $delivered
                    WHERE id = $id
                    """;
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$code", (object?)statusCode ?? DBNull.Value);
                command.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
                command.Parameters.AddWithValue("$status", delivered ? WebhookDelivery.Delivered : nextAttempt is null ? WebhookDelivery.Failed : WebhookDelivery.Pending);
                command.Parameters.AddWithValue("$next", (nextAttempt ?? now).ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$delivered", delivered ? now.ToUnixTimeMilliseconds() : DBNull.Value);
                await command.ExecuteNonQueryAsync(cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<IReadOnlyList<WebhookDelivery>> ListAsync(string runId, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<WebhookDelivery>>(
            async connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = $"SELECT {Columns} FROM webhook_deliveries WHERE run_id = $run ORDER BY created_at, id";
                command.Parameters.AddWithValue("$run", runId);
                var list = new List<WebhookDelivery>();
                using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
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

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    public void Dispose() => _database.Dispose();

    private static DateTimeOffset Time(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken) =>
        _database.WithConnectionAsync(action, cancellationToken);
}
