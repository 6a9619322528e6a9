using System.Text.Json;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Runs;
using Npgsql;
using NpgsqlTypes;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// <see cref="IRunStore"/> on PostgreSQL. Each call is one round trip: an insert stores the run and
/// its first event in one statement, an update writes the run and its event in one batch (one
/// implicit transaction); only a repeated idempotency key takes a second trip to read the run stored
/// first. Several routers may share the database: the unique index on (owner, key) decides which of
/// two concurrent submissions with the same key creates the run, whichever replica they reached.
/// </summary>
internal sealed class PostgresRunStore(PostgresRouterDatabase database) : IRunStore
{
    private const string Columns =
        "seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs, " +
        "cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id, extra_data";

    /// <summary>A run's state from <c>runs</c> and its body from <c>run_bodies</c>, by the sequence they share.</summary>
    private const string Runs = "runs JOIN run_bodies USING (seq)";

    /// <summary>Matches <c>runs_owner_idempotency_key</c> term for term, so the lookup uses that index.</summary>
    private const string ByOwnerAndKey = "COALESCE(owner, '') = COALESCE(@owner, '') AND idempotency_key = @key";

    private const string SelectById = $"SELECT {Columns} FROM {Runs} WHERE id = @id";
    private const string SelectByKey = $"SELECT {Columns} FROM {Runs} WHERE {ByOwnerAndKey}";
    private const string SelectPage = $"SELECT {Columns} FROM {Runs} WHERE (@status IS NULL OR status = @status) AND (@deployment IS NULL OR deployment = @deployment) AND (@owner IS NULL OR owner = @owner) AND (@before IS NULL OR seq < @before) ORDER BY seq DESC LIMIT @limit";
    private const string SelectUnfinished = $"SELECT {Columns} FROM {Runs} WHERE status IN ('queued', 'dispatching', 'running') ORDER BY seq";
    private const string SelectEvents = "SELECT seq, type, data, at FROM run_events WHERE run_id = @id AND seq > @after ORDER BY seq";

    /// <summary>
    /// The run and its first events in one statement, unless the queued runs of the run's owner or workflow
    /// have reached a limit given (<c>@owner_limit</c>, <c>@deployment_limit</c>; null = none, and then
    /// nothing is counted). A key the same owner already used makes the insert do nothing (after waiting
    /// for a concurrent insert of that key to commit), so neither the run nor the event is written and no
    /// sequence is returned; the counts say whether a limit stopped it.
    /// </summary>
    private const string InsertRun = """
        WITH pending AS (
            SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE @owner_limit::integer IS NOT NULL AND status = 'queued' AND owner = @owner LIMIT @owner_limit) o) AS by_owner,
                   (SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE @deployment_limit::integer IS NOT NULL AND status = 'queued' AND deployment = @deployment LIMIT @deployment_limit) d) AS by_deployment),
        inserted AS (
            INSERT INTO runs (id, status, priority, idempotency_key, attempts, worker, prompt_id, reason, failure,
                              outputs, cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, deployment, owner, client_id)
            SELECT @id, @status, @priority, @key, @attempts, @worker, @prompt, @reason, @failure,
                   @outputs, @cancel, @queued, @dispatched, @started, @finished, @last, @inputs, @deployment, @owner, @client
            FROM pending WHERE (@owner_limit IS NULL OR by_owner < @owner_limit) AND (@deployment_limit IS NULL OR by_deployment < @deployment_limit)
            ON CONFLICT ((COALESCE(owner, '')), idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING seq, id),
        body AS (
            INSERT INTO run_bodies (seq, workflow, metadata, webhook, extra_data)
            SELECT seq, @workflow, @metadata, @webhook, @extra FROM inserted),
        first_events AS (
            INSERT INTO run_events (run_id, seq, type, data, at)
            SELECT id, e.seq, e.type, e.data, e.at FROM inserted, unnest(@seqs, @types, @datas, @ats) AS e(seq, type, data, at))
        SELECT (SELECT seq FROM inserted), by_owner, by_deployment FROM pending
        """;

    /// <summary>
    /// The advisory locks (held to the end of the insert's transaction) that make racing inserts of one owner,
    /// or one workflow, count one after the other: taken in a statement before the insert, so the insert's
    /// snapshot is taken after the lock and sees every run inserted under it before. Owner before workflow,
    /// always, so two inserts never wait for each other in a circle. The keys' first halves ("cmpo", "cmpd"
    /// in ASCII) keep them apart from other advisory locks.
    /// </summary>
    private const string LockOwner = "SELECT pg_advisory_xact_lock(1668116591, hashtext(@owner))";

    private const string LockDeployment = "SELECT pg_advisory_xact_lock(1668116580, hashtext(@deployment))";

    private const string InsertEvent = "INSERT INTO run_events (run_id, seq, type, data, at) VALUES (@id, @seq, @type, @data, @at)";

    private const string UpdateRun = """
        UPDATE runs SET status = @status, attempts = @attempts, worker = @worker, prompt_id = @prompt, reason = @reason,
            failure = @failure, outputs = @outputs, cancel_requested = @cancel, dispatched_at = @dispatched,
            started_at = @started, finished_at = @finished, last_event_seq = @last, inputs = @inputs, client_id = @client
        WHERE id = @id
        """;

    /// <summary>The compare-and-set of <see cref="TryUpdateWithEventsAsync"/>: the row moves only from the sequence the change was decided from.</summary>
    private const string TryUpdateRun = """
        UPDATE runs SET status = @status, attempts = @attempts, worker = @worker, prompt_id = @prompt, reason = @reason,
            failure = @failure, outputs = @outputs, cancel_requested = runs.cancel_requested OR @cancel, dispatched_at = @dispatched,
            started_at = @started, finished_at = @finished, last_event_seq = @last, inputs = @inputs, client_id = @client
        WHERE id = @id AND last_event_seq = @expected
        """;

    /// <summary><see cref="TryUpdateRun"/> and its events in one statement: the events are written only when the run moved.</summary>
    private const string TryUpdateRunWithEvents = $"""
        WITH updated AS ({TryUpdateRun} RETURNING id)
        INSERT INTO run_events (run_id, seq, type, data, at)
        SELECT id, e.seq, e.type, e.data, e.at FROM updated, unnest(@seqs, @types, @datas, @ats) AS e(seq, type, data, at)
        """;

    /// <summary>The WHERE of the partial indexes <c>runs_finished_seq</c> and <c>runs_finished_at</c>, word for word so they are used.</summary>
    private const string Finished = "status IN ('succeeded', 'failed', 'cancelled')";

    private const string CountFinished = $"SELECT COUNT(*) FROM runs WHERE {Finished}";

    /// <summary>
    /// One batch of pruning in one statement: the newest finished run beyond the newest <c>@keep</c> is
    /// the cutoff; it, every older finished run and those finished before <c>@before</c> go, with their events.
    /// </summary>
    private const string PruneBatchSql = $"""
        WITH cutoff AS (
            SELECT COALESCE((SELECT seq FROM runs WHERE {Finished} ORDER BY seq DESC LIMIT 1 OFFSET @keep), 0) AS seq),
        doomed AS (
            SELECT runs.id, runs.seq FROM runs, cutoff
            WHERE {Finished} AND (runs.seq <= cutoff.seq OR runs.finished_at < @before)
            ORDER BY runs.seq LIMIT @batch),
        events AS (
            DELETE FROM run_events WHERE run_id IN (SELECT id FROM doomed)),
        bodies AS (
            DELETE FROM run_bodies WHERE seq IN (SELECT seq FROM doomed))
        DELETE FROM runs WHERE id IN (SELECT id FROM doomed) RETURNING id
        """;

    /// <summary>An owner's finished runs, all of them (<c>@all</c>) or those in <c>@ids</c>, with their events, in one statement.</summary>
    private const string DeleteOwnersFinished = $"""
        WITH doomed AS (
            SELECT id, seq FROM runs WHERE {Finished} AND COALESCE(owner, '') = COALESCE(@owner, '') AND (@all OR id = ANY(@ids))),
        events AS (
            DELETE FROM run_events WHERE run_id IN (SELECT id FROM doomed)),
        bodies AS (
            DELETE FROM run_bodies WHERE seq IN (SELECT seq FROM doomed))
        DELETE FROM runs WHERE id IN (SELECT id FROM doomed) RETURNING id
        """;

    /// <summary>Runs removed per statement, so a large prune (a lowered limit) never holds its locks for long.</summary>
    private const int PruneBatch = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// One round trip: the insert, after the advisory locks of the limits that apply (one batch, so one
    /// implicit transaction that holds the locks until the run is committed). Only a repeated idempotency
    /// key takes a second trip.
    /// </summary>
    public Task<SubmitResult> InsertWithinLimitsAsync(RunRecord run, IReadOnlyList<RunEvent> events, PendingLimits limits, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                var ownerLimit = run.Owner is null ? null : limits.PerOwner;
                var deploymentLimit = run.Deployment is null ? null : limits.PerDeployment;
                SubmitOutcome? reached;
                await using (var batch = database.Batch(connection))
                {
                    if (ownerLimit is not null)
                    {
                        batch.BatchCommands.Add(Lock(LockOwner, "owner", run.Owner));
                    }

                    if (deploymentLimit is not null)
                    {
                        batch.BatchCommands.Add(Lock(LockDeployment, "deployment", run.Deployment));
                    }

                    var insert = new NpgsqlBatchCommand(InsertRun);
                    BindRun(insert.Parameters, run);
                    Add(insert.Parameters, "priority", NpgsqlDbType.Integer, run.Priority);
                    Add(insert.Parameters, "key", NpgsqlDbType.Text, run.IdempotencyKey);
                    Add(insert.Parameters, "workflow", NpgsqlDbType.Text, run.Workflow);
                    Add(insert.Parameters, "metadata", NpgsqlDbType.Text, run.Metadata);
                    Add(insert.Parameters, "queued", NpgsqlDbType.Bigint, run.QueuedAt.ToUnixTimeMilliseconds());
                    Add(insert.Parameters, "webhook", NpgsqlDbType.Text, run.Webhook is null ? null : JsonSerializer.Serialize(run.Webhook, Json));
                    Add(insert.Parameters, "deployment", NpgsqlDbType.Text, run.Deployment);
                    Add(insert.Parameters, "owner", NpgsqlDbType.Text, run.Owner);
                    Add(insert.Parameters, "extra", NpgsqlDbType.Text, run.ExtraData);
                    Add(insert.Parameters, "client", NpgsqlDbType.Text, run.ClientId);
                    Add(insert.Parameters, "owner_limit", NpgsqlDbType.Integer, ownerLimit);
                    Add(insert.Parameters, "deployment_limit", NpgsqlDbType.Integer, deploymentLimit);
                    BindEvents(insert.Parameters, events);
                    batch.BatchCommands.Add(insert);

                    await using (var reader = await batch.ExecuteReaderAsync(ct))
                    {
                        // The locks' results come first.
                        for (var skip = batch.BatchCommands.Count - 1; skip > 0; skip--)
                        {
                            await reader.NextResultAsync(ct);
                        }

                        await reader.ReadAsync(ct);
                        if (!reader.IsDBNull(0))
                        {
                            return new SubmitResult(SubmitOutcome.Created, run with { Sequence = reader.GetInt64(0) });
                        }

                        reached = ownerLimit is { } perOwner && reader.GetInt64(1) >= perOwner ? SubmitOutcome.OwnerLimitReached
                            : deploymentLimit is { } perDeployment && reader.GetInt64(2) >= perDeployment ? SubmitOutcome.DeploymentLimitReached
                            : null;
                    }
                }

                // A key the same owner used before is answered as a replay, as on one router, even at a limit.
                if (run.IdempotencyKey is not null)
                {
                    await using var select = database.Command(connection, SelectByKey);
                    BindOwnerAndKey(select, run.Owner, run.IdempotencyKey);
                    if (FirstOrNull(await ReadRunsAsync(select, ct)) is { } existing)
                    {
                        return new SubmitResult(SubmitOutcome.Replayed, existing);
                    }
                }

                return reached is { } outcome
                    ? new SubmitResult(outcome, null)
                    : throw new StorageException($"Run {run.Id} was neither inserted nor found under its idempotency key.");
            },
            cancellationToken);

    public Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectById);
                Add(command, "id", NpgsqlDbType.Text, id);
                return FirstOrNull(await ReadRunsAsync(command, ct));
            },
            cancellationToken);

    public Task<RunRecord?> GetByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectByKey);
                BindOwnerAndKey(command, owner, key);
                return FirstOrNull(await ReadRunsAsync(command, ct));
            },
            cancellationToken);

    public Task<RunPage> ListAsync(RunQuery query, int limit, long? before, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectPage);
                Add(command, "status", NpgsqlDbType.Text, query.Status?.ToWire());
                Add(command, "deployment", NpgsqlDbType.Text, query.Workflow);
                Add(command, "owner", NpgsqlDbType.Text, query.Owner);
                Add(command, "before", NpgsqlDbType.Bigint, before);
                Add(command, "limit", NpgsqlDbType.Integer, limit + 1);
                var runs = await ReadRunsAsync(command, ct);
                return runs.Count > limit ? new RunPage(runs[..limit], runs[limit - 1].Sequence) : new RunPage(runs, null);
            },
            cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<RunRecord>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectUnfinished);
                return await ReadRunsAsync(command, ct);
            },
            cancellationToken);

    public Task UpdateAsync(RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var batch = database.Batch(connection);
                var update = new NpgsqlBatchCommand(UpdateRun);
                BindRun(update.Parameters, run);
                Add(update.Parameters, "client", NpgsqlDbType.Text, run.ClientId);
                batch.BatchCommands.Add(update);
                if (runEvent is not null)
                {
                    var insert = new NpgsqlBatchCommand(InsertEvent);
                    Add(insert.Parameters, "id", NpgsqlDbType.Text, runEvent.RunId);
                    Add(insert.Parameters, "seq", NpgsqlDbType.Bigint, runEvent.Sequence);
                    Add(insert.Parameters, "type", NpgsqlDbType.Text, runEvent.Type);
                    Add(insert.Parameters, "data", NpgsqlDbType.Text, runEvent.Data);
                    Add(insert.Parameters, "at", NpgsqlDbType.Bigint, runEvent.At.ToUnixTimeMilliseconds());
                    batch.BatchCommands.Add(insert);
                }

                return await batch.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);

    /// <summary>One round trip, however many events: with none, the update alone (one row when it moved); with some, one statement that inserts them all when it moved.</summary>
    public Task<bool> TryUpdateWithEventsAsync(RunRecord run, IReadOnlyList<RunEvent> events, long expectedSequence, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, events.Count == 0 ? TryUpdateRun : TryUpdateRunWithEvents);
                BindRun(command, run);
                Add(command, "client", NpgsqlDbType.Text, run.ClientId);
                Add(command, "expected", NpgsqlDbType.Bigint, expectedSequence);
                if (events.Count > 0)
                {
                    BindEvents(command.Parameters, events);
                }

                return await command.ExecuteNonQueryAsync(ct) > 0;
            },
            cancellationToken);

    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<RunEvent>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectEvents);
                Add(command, "id", NpgsqlDbType.Text, runId);
                Add(command, "after", NpgsqlDbType.Bigint, afterSequence);
                var events = new List<RunEvent>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    events.Add(new RunEvent(runId, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
                }

                return events;
            },
            cancellationToken);

    public Task<long> CountFinishedAsync(CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, CountFinished);
                return (long)(await command.ExecuteScalarAsync(ct))!;
            },
            cancellationToken);

    public async Task<IReadOnlyList<string>> PruneAsync(int keep, DateTimeOffset? finishedBefore, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        while (true)
        {
            var batch = await database.RunAsync(
                async (connection, ct) =>
                {
                    await using var command = database.Command(connection, PruneBatchSql);
                    Add(command, "keep", NpgsqlDbType.Integer, keep);
                    Add(command, "before", NpgsqlDbType.Bigint, finishedBefore?.ToUnixTimeMilliseconds());
                    Add(command, "batch", NpgsqlDbType.Integer, PruneBatch);
                    var ids = new List<string>();
                    await using var reader = await command.ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                    {
                        ids.Add(reader.GetString(0));
                    }

                    return ids;
                },
                cancellationToken);
            removed.AddRange(batch);
            if (batch.Count < PruneBatch)
            {
                return removed;
            }
        }
    }

    public Task<IReadOnlyList<string>> DeleteFinishedAsync(string? owner, IReadOnlyCollection<string>? ids, CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<string>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, DeleteOwnersFinished);
                Add(command, "owner", NpgsqlDbType.Text, owner);
                Add(command, "all", NpgsqlDbType.Boolean, ids is null);
                Add(command, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, (ids ?? []).ToArray());
                var deleted = new List<string>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    deleted.Add(reader.GetString(0));
                }

                return deleted;
            },
            cancellationToken);

    public Task<bool> PingAsync(CancellationToken cancellationToken) => database.PingAsync(cancellationToken);

    private static RunRecord? FirstOrNull(List<RunRecord> runs) => runs.Count == 0 ? null : runs[0];

    private static NpgsqlBatchCommand Lock(string sql, string name, string? scope)
    {
        var command = new NpgsqlBatchCommand(sql);
        Add(command.Parameters, name, NpgsqlDbType.Text, scope);
        return command;
    }

    private static void BindRun(NpgsqlCommand command, RunRecord run) => BindRun(command.Parameters, run);

    /// <summary>Events as the arrays that <c>unnest(@seqs, @types, @datas, @ats)</c> inserts.</summary>
    private static void BindEvents(NpgsqlParameterCollection parameters, IReadOnlyList<RunEvent> events)
    {
        Add(parameters, "seqs", NpgsqlDbType.Array | NpgsqlDbType.Bigint, events.Select(e => e.Sequence).ToArray());
        Add(parameters, "types", NpgsqlDbType.Array | NpgsqlDbType.Text, events.Select(e => e.Type).ToArray());
        Add(parameters, "datas", NpgsqlDbType.Array | NpgsqlDbType.Text, events.Select(e => e.Data).ToArray());
        Add(parameters, "ats", NpgsqlDbType.Array | NpgsqlDbType.Bigint, events.Select(e => e.At.ToUnixTimeMilliseconds()).ToArray());
    }

    private static void BindRun(NpgsqlParameterCollection parameters, RunRecord run)
    {
        Add(parameters, "id", NpgsqlDbType.Text, run.Id);
        Add(parameters, "status", NpgsqlDbType.Text, run.Status.ToWire());
        Add(parameters, "attempts", NpgsqlDbType.Integer, run.Attempts);
        Add(parameters, "worker", NpgsqlDbType.Text, run.Worker);
        Add(parameters, "prompt", NpgsqlDbType.Text, run.PromptId);
        Add(parameters, "reason", NpgsqlDbType.Text, run.Reason);
        Add(parameters, "failure", NpgsqlDbType.Text, run.Failure is null ? null : JsonSerializer.Serialize(run.Failure, Json));
        Add(parameters, "outputs", NpgsqlDbType.Text, run.Outputs.Count == 0 ? null : JsonSerializer.Serialize(run.Outputs, Json));
        Add(parameters, "cancel", NpgsqlDbType.Boolean, run.CancelRequested);
        Add(parameters, "dispatched", NpgsqlDbType.Bigint, run.DispatchedAt?.ToUnixTimeMilliseconds());
        Add(parameters, "started", NpgsqlDbType.Bigint, run.StartedAt?.ToUnixTimeMilliseconds());
        Add(parameters, "finished", NpgsqlDbType.Bigint, run.FinishedAt?.ToUnixTimeMilliseconds());
        Add(parameters, "last", NpgsqlDbType.Bigint, run.LastEventSequence);
        Add(parameters, "inputs", NpgsqlDbType.Text, run.Inputs.Count == 0 ? null : JsonSerializer.Serialize(run.Inputs, Json));
    }

    private static void BindOwnerAndKey(NpgsqlCommand command, string? owner, string? key)
    {
        Add(command, "owner", NpgsqlDbType.Text, owner);
        Add(command, "key", NpgsqlDbType.Text, key);
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value) => PostgresParameters.Add(command.Parameters, name, type, value);

    private static void Add(NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) => PostgresParameters.Add(parameters, name, type, value);

    private static async Task<List<RunRecord>> ReadRunsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var runs = new List<RunRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
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
                CancelRequested = reader.GetBoolean(13),
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
                ExtraData = reader.IsDBNull(24) ? null : reader.GetString(24),
            });
        }

        return runs;
    }

    private static DateTimeOffset? ReadTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
}
