using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// The run store on one SQLite file (WAL, synchronous=NORMAL). One connection. Inserts and updates
/// go through one writer that commits whatever has queued up meanwhile in a single transaction
/// (group commit) with prepared, reused statements; each caller's task completes only after the
/// commit that holds its write, so a 202 is never answered for a run that is not stored. Times are
/// stored as Unix milliseconds so the same schema works on PostgreSQL (bigint).
/// </summary>
internal sealed class SqliteRunStore : IRunStore, IAsyncDisposable, IDisposable
{
    /// <summary>Most writes committed in one transaction.</summary>
    private const int MaxBatch = 512;

    private const string Columns =
        "seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs, " +
        "cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id";

    /// <summary>
    /// An idempotency key is unique per owner (API key or user; null = auth off), so two callers that
    /// pick the same key get their own runs. COALESCE because NULLs never collide in a unique index.
    /// </summary>
    private const string RunsIndexes = """
        CREATE INDEX IF NOT EXISTS runs_status_seq ON runs (status, seq);
        CREATE UNIQUE INDEX IF NOT EXISTS runs_owner_idempotency_key ON runs (COALESCE(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL;
        """;

    /// <summary>Matches <c>runs_owner_idempotency_key</c> term for term, so the lookup uses that index.</summary>
    private const string ByOwnerAndKey = "COALESCE(owner, '') = COALESCE($owner, '') AND idempotency_key = $key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private SqliteConnection? _connection;
    private Task? _writer;
    private SqliteCommand? _insertRun;
    private SqliteCommand? _insertEvent;
    private SqliteCommand? _updateRun;
    private SqliteCommand? _selectByKey;

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

            var connection = await SqliteDatabase.OpenAsync(_path, cancellationToken);
            await ExecuteAsync(connection, RunsTable("runs") + """
                CREATE TABLE IF NOT EXISTS run_events (
                    run_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    data TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, seq));
                """, cancellationToken);
            await AddColumnIfMissingAsync(connection, "inputs", cancellationToken);
            await AddColumnIfMissingAsync(connection, "webhook", cancellationToken);
            await AddColumnIfMissingAsync(connection, "deployment", cancellationToken);
            await AddColumnIfMissingAsync(connection, "owner", cancellationToken);
            await AddColumnIfMissingAsync(connection, "client_id", cancellationToken);
            await ScopeIdempotencyKeysPerOwnerAsync(connection, cancellationToken);
            await ExecuteAsync(connection, RunsIndexes, cancellationToken);
            _connection = connection;
            PrepareStatements(connection);
            _writer = Task.Run(() => WriteLoopAsync(_stopping.Token), CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<(RunRecord Run, bool Created)> InsertAsync(RunRecord run, RunEvent firstEvent, CancellationToken cancellationToken)
    {
        var write = new PendingInsert(run, firstEvent);
        Enqueue(write);
        return write.Done.Task.WaitAsync(cancellationToken);
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

    public async Task<RunRecord?> GetByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await QuerySingleAsync(Connection, ByOwnerAndKey, cmd => BindOwnerAndKey(cmd, owner, key), cancellationToken);
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

    public Task UpdateAsync(RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken)
    {
        var write = new PendingUpdate(run, runEvent);
        Enqueue(write);
        return write.Done.Task.WaitAsync(cancellationToken);
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

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        if (_writer is not null)
        {
            // Queued writes are committed before the connection closes.
            await _writer;
            _writer = null;
        }

        await _stopping.CancelAsync();
        foreach (var command in (SqliteCommand?[])[_insertRun, _insertEvent, _updateRun, _selectByKey])
        {
            command?.Dispose();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        _stopping.Dispose();
        _gate.Dispose();
    }

    private void Enqueue(PendingWrite write)
    {
        _ = Connection;
        ObjectDisposedException.ThrowIf(!_writes.Writer.TryWrite(write), this);
    }

    private void PrepareStatements(SqliteConnection connection)
    {
        _insertRun = connection.CreateCommand();
        _insertRun.CommandText = """
            INSERT INTO runs (id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure,
                              outputs, cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner)
            VALUES ($id, $status, $priority, $key, $workflow, $metadata, $attempts, $worker, $prompt, $reason, $failure,
                    $outputs, $cancel, $queued, $dispatched, $started, $finished, $last, $inputs, $webhook, $deployment, $owner)
            RETURNING seq;
            """;
        _insertEvent = connection.CreateCommand();
        _insertEvent.CommandText = "INSERT INTO run_events (run_id, seq, type, data, at) VALUES ($id, $seq, $type, $data, $at)";
        _updateRun = connection.CreateCommand();
        _updateRun.CommandText = """
            UPDATE runs SET status = $status, attempts = $attempts, worker = $worker, prompt_id = $prompt, reason = $reason,
                failure = $failure, outputs = $outputs, cancel_requested = $cancel, dispatched_at = $dispatched,
                started_at = $started, finished_at = $finished, last_event_seq = $last, inputs = $inputs, client_id = $client
            WHERE id = $id;
            """;
        _selectByKey = connection.CreateCommand();
        _selectByKey.CommandText = $"SELECT {Columns} FROM runs WHERE {ByOwnerAndKey}";
    }

    /// <summary>The single writer: one transaction for everything queued since the last commit.</summary>
    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var batch = new List<PendingWrite>(MaxBatch);
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                try
                {
                    await CommitAsync(batch, cancellationToken);
                }
                catch (SqliteException)
                {
                    // One bad write must not fail the others: commit them one by one to find it.
                    foreach (var write in batch)
                    {
                        try
                        {
                            await CommitAsync([write], cancellationToken);
                        }
                        catch (SqliteException ex)
                        {
                            write.Fail(ex);
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                foreach (var write in batch)
                {
                    write.Fail(ex);
                }
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private async Task CommitAsync(IReadOnlyList<PendingWrite> batch, CancellationToken cancellationToken)
    {
        var connection = Connection;
        var results = new object?[batch.Count];
        using (var transaction = connection.BeginTransaction())
        {
            for (var i = 0; i < batch.Count; i++)
            {
                results[i] = batch[i] switch
                {
                    PendingInsert insert => await InsertInTransactionAsync(transaction, insert.Run, insert.Event, cancellationToken),
                    PendingUpdate update => await UpdateInTransactionAsync(transaction, update.Run, update.Event, cancellationToken),
                    _ => null,
                };
            }

            await transaction.CommitAsync(cancellationToken);
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete(results[i]);
        }
    }

    private async Task<(RunRecord Run, bool Created)> InsertInTransactionAsync(SqliteTransaction transaction, RunRecord run, RunEvent firstEvent, CancellationToken cancellationToken)
    {
        if (run.IdempotencyKey is not null)
        {
            var select = _selectByKey!;
            select.Transaction = transaction;
            select.Parameters.Clear();
            BindOwnerAndKey(select, run.Owner, run.IdempotencyKey);
            var existing = await ReadRunsAsync(select, cancellationToken);
            if (existing.Count > 0)
            {
                return (existing[0], false);
            }
        }

        var insert = _insertRun!;
        insert.Transaction = transaction;
        insert.Parameters.Clear();
        BindRun(insert, run);
        insert.Parameters.AddWithValue("$priority", run.Priority);
        insert.Parameters.AddWithValue("$key", (object?)run.IdempotencyKey ?? DBNull.Value);
        insert.Parameters.AddWithValue("$workflow", run.Workflow);
        insert.Parameters.AddWithValue("$metadata", (object?)run.Metadata ?? DBNull.Value);
        insert.Parameters.AddWithValue("$queued", run.QueuedAt.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$webhook", run.Webhook is null ? DBNull.Value : JsonSerializer.Serialize(run.Webhook, Json));
        insert.Parameters.AddWithValue("$deployment", (object?)run.Deployment ?? DBNull.Value);
        insert.Parameters.AddWithValue("$owner", (object?)run.Owner ?? DBNull.Value);
        var sequence = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        await InsertEventAsync(transaction, firstEvent, cancellationToken);
        return (run with { Sequence = sequence }, true);
    }

    private async Task<bool> UpdateInTransactionAsync(SqliteTransaction transaction, RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken)
    {
        var update = _updateRun!;
        update.Transaction = transaction;
        update.Parameters.Clear();
        BindRun(update, run);
        update.Parameters.AddWithValue("$client", (object?)run.ClientId ?? DBNull.Value);
        await update.ExecuteNonQueryAsync(cancellationToken);
        if (runEvent is not null)
        {
            await InsertEventAsync(transaction, runEvent, cancellationToken);
        }

        return true;
    }

    private async Task InsertEventAsync(SqliteTransaction transaction, RunEvent runEvent, CancellationToken cancellationToken)
    {
        var command = _insertEvent!;
        command.Transaction = transaction;
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$id", runEvent.RunId);
        command.Parameters.AddWithValue("$seq", runEvent.Sequence);
        command.Parameters.AddWithValue("$type", runEvent.Type);
        command.Parameters.AddWithValue("$data", runEvent.Data);
        command.Parameters.AddWithValue("$at", runEvent.At.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A write waiting for the writer.</summary>
    private abstract class PendingWrite
    {
        public abstract void Complete(object? result);

        public abstract void Fail(Exception error);
    }

    private sealed class PendingInsert(RunRecord run, RunEvent firstEvent) : PendingWrite
    {
        public RunRecord Run { get; } = run;

        public RunEvent Event { get; } = firstEvent;

        public TaskCompletionSource<(RunRecord Run, bool Created)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete(object? result) => Done.TrySetResult(((RunRecord, bool))result!);

        public override void Fail(Exception error) => Done.TrySetException(error);
    }

    private sealed class PendingUpdate(RunRecord run, RunEvent? runEvent) : PendingWrite
    {
        public RunRecord Run { get; } = run;

        public RunEvent? Event { get; } = runEvent;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete(object? result) => Done.TrySetResult();

        public override void Fail(Exception error) => Done.TrySetException(error);
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
        command.Parameters.AddWithValue("$inputs", run.Inputs.Count == 0 ? DBNull.Value : JsonSerializer.Serialize(run.Inputs, Json));
    }

    /// <summary>The runs table as this version creates it; the rebuild below creates the same under another name.</summary>
    private static string RunsTable(string name) => $"""
        CREATE TABLE IF NOT EXISTS {name} (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            priority INTEGER NOT NULL,
            idempotency_key TEXT NULL,
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
            inputs TEXT NULL,
            webhook TEXT NULL,
            deployment TEXT NULL,
            owner TEXT NULL,
            client_id TEXT NULL);

        """;

    private static void BindOwnerAndKey(SqliteCommand command, string? owner, string? key)
    {
        command.Parameters.AddWithValue("$owner", (object?)owner ?? DBNull.Value);
        command.Parameters.AddWithValue("$key", (object?)key ?? DBNull.Value);
    }

    /// <summary>
    /// A database written by an older router has <c>idempotency_key ... UNIQUE</c> on the column: one
    /// key for all callers. A column constraint cannot be dropped in SQLite, so the table is rebuilt
    /// (SQLite's documented way: create the new table, copy, drop the old, rename) in one transaction.
    /// Sequence numbers are copied as they are and the AUTOINCREMENT counter is carried over, so new
    /// runs keep numbering above every run ever stored (list cursors rely on it). Events live in their
    /// own table keyed by run id and are untouched. Does nothing once the old constraint is gone.
    /// </summary>
    private static async Task ScopeIdempotencyKeysPerOwnerAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using (var find = connection.CreateCommand())
        {
            // origin 'u' = an index SQLite made for a UNIQUE constraint in CREATE TABLE (not one made with CREATE INDEX).
            find.CommandText = """
                SELECT COUNT(*) FROM pragma_index_list('runs') AS list
                WHERE list."unique" = 1 AND list.origin = 'u'
                  AND (SELECT COUNT(*) FROM pragma_index_info(list.name)) = 1
                  AND (SELECT name FROM pragma_index_info(list.name)) = 'idempotency_key'
                """;
            if ((long)(await find.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                return;
            }
        }

        using var transaction = connection.BeginTransaction();
        long? counter;
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT seq FROM sqlite_sequence WHERE name = 'runs'";
            counter = await read.ExecuteScalarAsync(cancellationToken) is long value ? value : null;
        }

        using (var rebuild = connection.CreateCommand())
        {
            rebuild.Transaction = transaction;
            rebuild.CommandText = "DROP TABLE IF EXISTS runs_rebuild;\n" + RunsTable("runs_rebuild") + $"""
                INSERT INTO runs_rebuild ({Columns}) SELECT {Columns} FROM runs ORDER BY seq;
                DROP TABLE runs;
                ALTER TABLE runs_rebuild RENAME TO runs;
                """;
            await rebuild.ExecuteNonQueryAsync(cancellationToken);
        }

        using (var finish = connection.CreateCommand())
        {
            // The copy set the counter to the highest seq still stored; runs pruned above it had used higher numbers.
            finish.Transaction = transaction;
            finish.CommandText = RunsIndexes + """
                UPDATE sqlite_sequence SET seq = MAX(seq, $counter) WHERE name = 'runs';
                INSERT INTO sqlite_sequence (name, seq) SELECT 'runs', $counter WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs');
                """;
            finish.Parameters.AddWithValue("$counter", counter ?? 0);
            await finish.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task AddColumnIfMissingAsync(SqliteConnection connection, string column, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name = $name";
        command.Parameters.AddWithValue("$name", column);
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            // A database written by an older router: the column is nullable, old rows read as "none".
            await ExecuteAsync(connection, $"ALTER TABLE runs ADD COLUMN {column} TEXT NULL", cancellationToken);
        }
    }

    private static object Millis(DateTimeOffset? value) => value is null ? DBNull.Value : value.Value.ToUnixTimeMilliseconds();

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
                Inputs = reader.IsDBNull(19) ? [] : JsonSerializer.Deserialize<List<RunInput>>(reader.GetString(19), Json) ?? [],
                Webhook = reader.IsDBNull(20) ? null : JsonSerializer.Deserialize<RunWebhook>(reader.GetString(20), Json),
                Deployment = reader.IsDBNull(21) ? null : reader.GetString(21),
                Owner = reader.IsDBNull(22) ? null : reader.GetString(22),
                ClientId = reader.IsDBNull(23) ? null : reader.GetString(23),
            });
        }

        return runs;
    }

    private static DateTimeOffset? ReadTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    internal static string FormatInvariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
