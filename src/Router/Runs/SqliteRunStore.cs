using System.Globalization;
using System.Text.Json;
using ComfyOperator.Router.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// The run store on one SQLite file (WAL). One connection, one writer at a time: SQLite serialises
/// writers anyway, and a single connection keeps statements cheap. Times are stored as Unix
/// milliseconds so the same schema works on PostgreSQL (bigint).
/// </summary>
internal sealed class SqliteRunStore : IRunStore, IAsyncDisposable, IDisposable
{
    private const string Columns =
        "seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs, " +
        "cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, deployment, owner";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;

    public SqliteRunStore(IOptions<RouterOptions> options)
        : this(options.Value.ResolvedDatabasePath)
    {
    }

    public SqliteRunStore(string path)
    {
        _path = path;
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is not null)
            {
                return;
            }

            var directory = Path.GetDirectoryName(_path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS runs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    idempotency_key TEXT NULL UNIQUE,
                    workflow TEXT NOT NULL,
                    metadata TEXT NULL,
                    attempts INTEGER NOT NULL,
                    worker TEXT NULL,
                    prompt_id TEXT NULL,
                    reason TEXT NULL,
                    failure TEXT NULL,
                    outputs TEXT NULL,
                    cancel_requested INTEGER NOT NULL,
                    queued_at INTEGER NOT NULL,
                    dispatched_at INTEGER NULL,
                    started_at INTEGER NULL,
                    finished_at INTEGER NULL,
                    last_event_seq INTEGER NOT NULL,
                    deployment TEXT NULL,
                    owner TEXT NULL);
                CREATE INDEX IF NOT EXISTS runs_status_seq ON runs (status, seq);
                CREATE TABLE IF NOT EXISTS run_events (
                    run_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    data TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, seq));
                """, cancellationToken);
            await AddColumnIfMissingAsync(connection, "deployment", cancellationToken);
            await AddColumnIfMissingAsync(connection, "owner", cancellationToken);
            _connection = connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<(RunRecord Run, bool Created)> InsertAsync(RunRecord run, RunEvent firstEvent, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var connection = Connection;
            if (run.IdempotencyKey is not null)
            {
                var existing = await QuerySingleAsync(connection, "idempotency_key = $key", cmd => cmd.Parameters.AddWithValue("$key", run.IdempotencyKey), cancellationToken);
                if (existing is not null)
                {
                    return (existing, false);
                }
            }

            using var transaction = connection.BeginTransaction();
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT INTO runs (id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure,
                                      outputs, cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, deployment, owner)
                    VALUES ($id, $status, $priority, $key, $workflow, $metadata, $attempts, $worker, $prompt, $reason, $failure,
                            $outputs, $cancel, $queued, $dispatched, $started, $finished, $last, $deployment, $owner)
                    RETURNING seq;
                    """;
                BindRun(insert, run);
                insert.Parameters.AddWithValue("$priority", run.Priority);
                insert.Parameters.AddWithValue("$key", (object?)run.IdempotencyKey ?? DBNull.Value);
                insert.Parameters.AddWithValue("$workflow", run.Workflow);
                insert.Parameters.AddWithValue("$metadata", (object?)run.Metadata ?? DBNull.Value);
                insert.Parameters.AddWithValue("$queued", run.QueuedAt.ToUnixTimeMilliseconds());
                insert.Parameters.AddWithValue("$deployment", (object?)run.Deployment ?? DBNull.Value);
                insert.Parameters.AddWithValue("$owner", (object?)run.Owner ?? DBNull.Value);
                var sequence = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
                run = run with { Sequence = sequence };
            }

            await InsertEventAsync(connection, transaction, firstEvent, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (run, true);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await QuerySingleAsync(Connection, "id = $id", cmd => cmd.Parameters.AddWithValue("$id", id), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RunRecord?> GetByIdempotencyKeyAsync(string key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await QuerySingleAsync(Connection, "idempotency_key = $key", cmd => cmd.Parameters.AddWithValue("$key", key), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RunPage> ListAsync(RunStatus? status, int limit, long? before, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = Connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM runs WHERE ($status IS NULL OR status = $status) AND ($before IS NULL OR seq < $before) ORDER BY seq DESC LIMIT $limit";
            command.Parameters.AddWithValue("$status", status is null ? DBNull.Value : status.Value.ToWire());
            command.Parameters.AddWithValue("$before", before is null ? DBNull.Value : before.Value);
            command.Parameters.AddWithValue("$limit", limit + 1);
            var runs = await ReadRunsAsync(command, cancellationToken);
            return runs.Count > limit ? new RunPage(runs[..limit], runs[limit - 1].Sequence) : new RunPage(runs, null);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = Connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM runs WHERE status IN ('queued', 'dispatching', 'running') ORDER BY seq";
            return await ReadRunsAsync(command, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task UpdateAsync(RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var connection = Connection;
            using var transaction = connection.BeginTransaction();
            using (var update = connection.CreateCommand())
            {
                update.Transaction = transaction;
                update.CommandText = """
                    UPDATE runs SET status = $status, attempts = $attempts, worker = $worker, prompt_id = $prompt, reason = $reason,
                        failure = $failure, outputs = $outputs, cancel_requested = $cancel, dispatched_at = $dispatched,
                        started_at = $started, finished_at = $finished, last_event_seq = $last
                    WHERE id = $id;
                    """;
                BindRun(update, run);
                await update.ExecuteNonQueryAsync(cancellationToken);
            }

            if (runEvent is not null)
            {
                await InsertEventAsync(connection, transaction, runEvent, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<RunEvent>> GetEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = Connection.CreateCommand();
            command.CommandText = "SELECT seq, type, data, at FROM run_events WHERE run_id = $id AND seq > $after ORDER BY seq";
            command.Parameters.AddWithValue("$id", runId);
            command.Parameters.AddWithValue("$after", afterSequence);
            var events = new List<RunEvent>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(new RunEvent(runId, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
            }

            return events;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<string>> PruneAsync(int keep, DateTimeOffset? finishedBefore, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var connection = Connection;
            using var transaction = connection.BeginTransaction();
            var ids = new List<string>();
            using (var select = connection.CreateCommand())
            {
                select.Transaction = transaction;
                select.CommandText = """
                    SELECT id FROM runs WHERE status IN ('succeeded', 'failed', 'cancelled') AND (
                        seq NOT IN (SELECT seq FROM runs WHERE status IN ('succeeded', 'failed', 'cancelled') ORDER BY seq DESC LIMIT $keep)
                        OR ($before IS NOT NULL AND finished_at < $before))
                    """;
                select.Parameters.AddWithValue("$keep", keep);
                select.Parameters.AddWithValue("$before", finishedBefore is null ? DBNull.Value : finishedBefore.Value.ToUnixTimeMilliseconds());
                using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    ids.Add(reader.GetString(0));
                }
            }

            foreach (var id in ids)
            {
                using var delete = connection.CreateCommand();
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM run_events WHERE run_id = $id; DELETE FROM runs WHERE id = $id;";
                delete.Parameters.AddWithValue("$id", id);
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return ids;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                return false;
            }

            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT 1";
            return await command.ExecuteScalarAsync(cancellationToken) is not null;
        }
        catch (SqliteException)
        {
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
        _gate.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        _gate.Dispose();
    }

    private SqliteConnection Connection => _connection ?? throw new InvalidOperationException("The run store is not initialized.");

    private static void BindRun(SqliteCommand command, RunRecord run)
    {
        command.Parameters.AddWithValue("$id", run.Id);
        command.Parameters.AddWithValue("$status", run.Status.ToWire());
        command.Parameters.AddWithValue("$attempts", run.Attempts);
        command.Parameters.AddWithValue("$worker", (object?)run.Worker ?? DBNull.Value);
        command.Parameters.AddWithValue("$prompt", (object?)run.PromptId ?? DBNull.Value);
        command.Parameters.AddWithValue("$reason", (object?)run.Reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$failure", run.Failure is null ? DBNull.Value : JsonSerializer.Serialize(run.Failure, Json));
        command.Parameters.AddWithValue("$outputs", run.Outputs.Count == 0 ? DBNull.Value : JsonSerializer.Serialize(run.Outputs, Json));
        command.Parameters.AddWithValue("$cancel", run.CancelRequested ? 1 : 0);
        command.Parameters.AddWithValue("$dispatched", Millis(run.DispatchedAt));
        command.Parameters.AddWithValue("$started", Millis(run.StartedAt));
        command.Parameters.AddWithValue("$finished", Millis(run.FinishedAt));
        command.Parameters.AddWithValue("$last", run.LastEventSequence);
    }

    private static object Millis(DateTimeOffset? value) => value is null ? DBNull.Value : value.Value.ToUnixTimeMilliseconds();

    private static async Task InsertEventAsync(SqliteConnection connection, SqliteTransaction transaction, RunEvent runEvent, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO run_events (run_id, seq, type, data, at) VALUES ($id, $seq, $type, $data, $at)";
        command.Parameters.AddWithValue("$id", runEvent.RunId);
        command.Parameters.AddWithValue("$seq", runEvent.Sequence);
        command.Parameters.AddWithValue("$type", runEvent.Type);
        command.Parameters.AddWithValue("$data", runEvent.Data);
        command.Parameters.AddWithValue("$at", runEvent.At.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<RunRecord?> QuerySingleAsync(SqliteConnection connection, string where, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM runs WHERE {where}";
        bind(command);
        var runs = await ReadRunsAsync(command, cancellationToken);
        return runs.Count == 0 ? null : runs[0];
    }

    private static async Task<List<RunRecord>> ReadRunsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var runs = new List<RunRecord>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!RunStatusExtensions.TryParseWire(reader.GetString(2), out var status))
            {
                throw new InvalidDataException($"Run {reader.GetString(1)} has an unknown status '{reader.GetString(2)}'.");
            }

            runs.Add(new RunRecord
            {
                Sequence = reader.GetInt64(0),
                Id = reader.GetString(1),
                Status = status,
                Priority = reader.GetInt32(3),
                IdempotencyKey = reader.IsDBNull(4) ? null : reader.GetString(4),
                Workflow = reader.GetString(5),
                Metadata = reader.IsDBNull(6) ? null : reader.GetString(6),
                Attempts = reader.GetInt32(7),
                Worker = reader.IsDBNull(8) ? null : reader.GetString(8),
                PromptId = reader.IsDBNull(9) ? null : reader.GetString(9),
                Reason = reader.IsDBNull(10) ? null : reader.GetString(10),
                Failure = reader.IsDBNull(11) ? null : JsonSerializer.Deserialize<RunFailure>(reader.GetString(11), Json),
                Outputs = reader.IsDBNull(12) ? [] : JsonSerializer.Deserialize<List<RunOutput>>(reader.GetString(12), Json) ?? [],
                CancelRequested = reader.GetInt64(13) != 0,
                QueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(14)),
                DispatchedAt = ReadTime(reader, 15),
                StartedAt = ReadTime(reader, 16),
                FinishedAt = ReadTime(reader, 17),
                LastEventSequence = reader.GetInt64(18),
                Deployment = reader.IsDBNull(19) ? null : reader.GetString(19),
                Owner = reader.IsDBNull(20) ? null : reader.GetString(20),
            });
        }

        return runs;
    }

    /// <summary>Databases made before the workflow columns existed get them added (nullable, so old rows stay valid).</summary>
    private static async Task AddColumnIfMissingAsync(SqliteConnection connection, string column, CancellationToken cancellationToken)
    {
        using var check = connection.CreateCommand();
        check.CommandText = "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name = $name";
        check.Parameters.AddWithValue("$name", column);
        if ((long)(await check.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            await ExecuteAsync(connection, $"ALTER TABLE runs ADD COLUMN {column} TEXT NULL", cancellationToken);
        }
    }

    private static DateTimeOffset? ReadTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    internal static string FormatInvariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
