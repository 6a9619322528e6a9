using System.Text.Json;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Runs;
using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>
/// <see cref="IRunStore"/> on the router's SQLite database. Writes go through the database's write
/// gate, so concurrent inserts and updates share a commit; each caller's task completes only after
/// the commit that holds its write, so a 202 is never answered for a run that is not stored. Reads
/// use the reader pool. Every statement is prepared once per connection.
/// </summary>
internal sealed class SqliteRunStore(SqliteRouterDatabase database) : IRunStore
{
    /// <summary>A run's state from <c>runs</c> and its body from <c>run_bodies</c> (one rowid lookup per run, by the sequence they share).</summary>
    private const string Columns =
        "seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs, " +
        "cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id, extra_data";

    private const string Runs = "runs JOIN run_bodies USING (seq)";

    /// <summary>Matches <c>runs_owner_idempotency_key</c> term for term, so the lookup uses that index.</summary>
    private const string ByOwnerAndKey = "COALESCE(owner, '') = COALESCE($owner, '') AND idempotency_key = $key";

    private const string SelectById = $"SELECT {Columns} FROM {Runs} WHERE id = $id";
    private const string SelectByKey = $"SELECT {Columns} FROM {Runs} WHERE {ByOwnerAndKey}";
    private const string SelectPage = $"SELECT {Columns} FROM {Runs} WHERE ($status IS NULL OR status = $status) AND ($deployment IS NULL OR deployment = $deployment) AND ($owner IS NULL OR owner = $owner) AND ($before IS NULL OR seq < $before) ORDER BY seq DESC LIMIT $limit";
    private const string SelectUnfinished = $"SELECT {Columns} FROM {Runs} WHERE status IN ('queued', 'dispatching', 'running') ORDER BY seq";
    private const string SelectEvents = "SELECT seq, type, data, at FROM run_events WHERE run_id = $id AND seq > $after ORDER BY seq";

    private const string InsertRun = """
        INSERT INTO runs (id, status, priority, idempotency_key, attempts, worker, prompt_id, reason, failure,
                          outputs, cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, deployment, owner, client_id)
        VALUES ($id, $status, $priority, $key, $attempts, $worker, $prompt, $reason, $failure,
                $outputs, $cancel, $queued, $dispatched, $started, $finished, $last, $inputs, $deployment, $owner, $client)
        RETURNING seq;
        """;

    private const string InsertBody = "INSERT INTO run_bodies (seq, workflow, metadata, webhook, extra_data) VALUES ($seq, $workflow, $metadata, $webhook, $extra)";

    /// <summary>Queued runs of one owner, or of one workflow, up to the limit (the partial indexes of migration 7).</summary>
    private const string CountQueuedOfOwner = "SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE status = 'queued' AND owner = $scope LIMIT $limit)";

    private const string CountQueuedOfDeployment = "SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE status = 'queued' AND deployment = $scope LIMIT $limit)";

    private const string InsertEvent = "INSERT INTO run_events (run_id, seq, type, data, at) VALUES ($id, $seq, $type, $data, $at)";

    private const string UpdateRun = """
        UPDATE runs SET status = $status, attempts = $attempts, worker = $worker, prompt_id = $prompt, reason = $reason,
            failure = $failure, outputs = $outputs, cancel_requested = $cancel, dispatched_at = $dispatched,
            started_at = $started, finished_at = $finished, last_event_seq = $last, inputs = $inputs, client_id = $client
        WHERE id = $id;
        """;

    /// <summary>The compare-and-set of <see cref="TryUpdateWithEventsAsync"/>: the row moves only from the sequence the change was decided from.</summary>
    private const string TryUpdateRun = """
        UPDATE runs SET status = $status, attempts = $attempts, worker = $worker, prompt_id = $prompt, reason = $reason,
            failure = $failure, outputs = $outputs, cancel_requested = (cancel_requested OR $cancel), dispatched_at = $dispatched,
            started_at = $started, finished_at = $finished, last_event_seq = $last, inputs = $inputs, client_id = $client
        WHERE id = $id AND last_event_seq = $expected;
        """;

    /// <summary>The WHERE of the partial indexes <c>runs_finished_seq</c> and <c>runs_finished_at</c>, word for word so they are used.</summary>
    private const string Finished = "status IN ('succeeded', 'failed', 'cancelled')";

    private const string CountFinished = $"SELECT COUNT(*) FROM runs WHERE {Finished}";

    /// <summary>The newest finished run beyond the newest <c>$keep</c>: it and every older finished run go.</summary>
    private const string SelectPruneCutoff = $"SELECT seq FROM runs WHERE {Finished} ORDER BY seq DESC LIMIT 1 OFFSET $keep";

    private const string SelectPrunable = $"""
        SELECT id FROM runs INDEXED BY runs_finished_seq WHERE {Finished} AND seq <= $cutoff ORDER BY seq LIMIT $batch;
        """;

    private const string SelectExpired = $"""
        SELECT id FROM runs INDEXED BY runs_finished_at WHERE {Finished} AND finished_at < $before AND seq > $cutoff ORDER BY finished_at LIMIT $batch;
        """;

    /// <summary>An owner's finished runs, all of them (<c>$all</c>) or those in the JSON array <c>$ids</c>.</summary>
    private const string SelectOwnersFinished = $"""
        SELECT id FROM runs WHERE {Finished} AND COALESCE(owner, '') = COALESCE($owner, '')
            AND ($all OR id IN (SELECT value FROM json_each($ids)));
        """;

    private const string DeleteRun = "DELETE FROM run_events WHERE run_id = $id; DELETE FROM run_bodies WHERE seq = (SELECT seq FROM runs WHERE id = $id); DELETE FROM runs WHERE id = $id;";

    /// <summary>Runs removed per write transaction, so a large prune (a lowered limit) never holds the write gate for long.</summary>
    private const int PruneBatch = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The write gate runs one write at a time, so the counts see every run stored before this insert.</summary>
    public Task<SubmitResult> InsertWithinLimitsAsync(RunRecord run, IReadOnlyList<RunEvent> events, PendingLimits limits, CancellationToken cancellationToken) =>
        database.WriteAsync((session, ct) => InsertInTransactionAsync(session, run, events, limits, ct), cancellationToken);

    public Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (session, ct) =>
            {
                var command = session.Command(SelectById);
                command.Parameters.AddWithValue("$id", id);
                return FirstOrNull(await ReadRunsAsync(command, ct));
            },
            cancellationToken);

    public Task<RunRecord?> GetByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (session, ct) =>
            {
                var command = session.Command(SelectByKey);
                BindOwnerAndKey(command, owner, key);
                return FirstOrNull(await ReadRunsAsync(command, ct));
            },
            cancellationToken);

    public Task<RunPage> ListAsync(RunQuery query, int limit, long? before, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (session, ct) =>
            {
                var command = session.Command(SelectPage);
                command.Parameters.AddWithValue("$status", query.Status is { } status ? status.ToWire() : DBNull.Value);
                command.Parameters.AddWithValue("$deployment", (object?)query.Workflow ?? DBNull.Value);
                command.Parameters.AddWithValue("$owner", (object?)query.Owner ?? DBNull.Value);
                command.Parameters.AddWithValue("$before", before is null ? DBNull.Value : before.Value);
                command.Parameters.AddWithValue("$limit", limit + 1);
                var runs = await ReadRunsAsync(command, ct);
                return runs.Count > limit ? new RunPage(runs[..limit], runs[limit - 1].Sequence) : new RunPage(runs, null);
            },
            cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RunRecord>>(async (session, ct) => await ReadRunsAsync(session.Command(SelectUnfinished), ct), cancellationToken);

    public Task UpdateAsync(RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken) =>
        database.WriteAsync((session, ct) => UpdateInTransactionAsync(session, run, runEvent, ct), cancellationToken);

    public Task<bool> TryUpdateWithEventsAsync(RunRecord run, IReadOnlyList<RunEvent> events, long expectedSequence, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var update = session.Command(TryUpdateRun);
                BindRun(update, run);
                update.Parameters.AddWithValue("$client", (object?)run.ClientId ?? DBNull.Value);
                update.Parameters.AddWithValue("$expected", expectedSequence);
                if (await update.ExecuteNonQueryAsync(ct) != 1)
                {
                    return false;
                }

                foreach (var runEvent in events)
                {
                    await InsertEventAsync(session, runEvent, ct);
                }

                return true;
            },
            cancellationToken);

    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RunEvent>>(
            async (session, ct) =>
            {
                var command = session.Command(SelectEvents);
                command.Parameters.AddWithValue("$id", runId);
                command.Parameters.AddWithValue("$after", afterSequence);
                var events = new List<RunEvent>();
                using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    events.Add(new RunEvent(runId, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
                }

                return events;
            },
            cancellationToken);

    public Task<long> CountFinishedAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async (session, ct) => (long)(await session.Command(CountFinished).ExecuteScalarAsync(ct))!, cancellationToken);

    public async Task<IReadOnlyList<string>> PruneAsync(int keep, DateTimeOffset? finishedBefore, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        while (true)
        {
            var batch = await database.WriteAsync((session, ct) => PruneBatchAsync(session, keep, finishedBefore, ct), cancellationToken);
            removed.AddRange(batch);
            if (batch.Count < PruneBatch)
            {
                return removed;
            }
        }
    }

    public Task<IReadOnlyList<string>> DeleteFinishedAsync(string? owner, IReadOnlyCollection<string>? ids, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<string>>(
            async (session, ct) =>
            {
                var select = session.Command(SelectOwnersFinished);
                select.Parameters.AddWithValue("$owner", (object?)owner ?? DBNull.Value);
                select.Parameters.AddWithValue("$all", ids is null);
                select.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids ?? []));
                var doomed = new List<string>();
                await ReadIdsAsync(select, doomed, ct);
                foreach (var id in doomed)
                {
                    var delete = session.Command(DeleteRun);
                    delete.Parameters.AddWithValue("$id", id);
                    await delete.ExecuteNonQueryAsync(ct);
                }

                return doomed;
            },
            cancellationToken);

    public Task<bool> PingAsync(CancellationToken cancellationToken) => database.PingAsync(cancellationToken);

    private static async Task<SubmitResult> InsertInTransactionAsync(SqliteSession session, RunRecord run, IReadOnlyList<RunEvent> events, PendingLimits limits, CancellationToken cancellationToken)
    {
        if (run.IdempotencyKey is not null)
        {
            var select = session.Command(SelectByKey);
            BindOwnerAndKey(select, run.Owner, run.IdempotencyKey);
            var existing = await ReadRunsAsync(select, cancellationToken);
            if (existing.Count > 0)
            {
                return new SubmitResult(SubmitOutcome.Replayed, existing[0]);
            }
        }

        if (run.Owner is not null && limits.PerOwner is { } perOwner && await CountQueuedAsync(session, CountQueuedOfOwner, run.Owner, perOwner, cancellationToken) >= perOwner)
        {
            return new SubmitResult(SubmitOutcome.OwnerLimitReached, null);
        }

        if (run.Deployment is not null && limits.PerDeployment is { } perDeployment && await CountQueuedAsync(session, CountQueuedOfDeployment, run.Deployment, perDeployment, cancellationToken) >= perDeployment)
        {
            return new SubmitResult(SubmitOutcome.DeploymentLimitReached, null);
        }

        var insert = session.Command(InsertRun);
        BindRun(insert, run);
        insert.Parameters.AddWithValue("$priority", run.Priority);
        insert.Parameters.AddWithValue("$key", (object?)run.IdempotencyKey ?? DBNull.Value);
        insert.Parameters.AddWithValue("$queued", run.QueuedAt.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$deployment", (object?)run.Deployment ?? DBNull.Value);
        insert.Parameters.AddWithValue("$owner", (object?)run.Owner ?? DBNull.Value);
        insert.Parameters.AddWithValue("$client", (object?)run.ClientId ?? DBNull.Value);
        var sequence = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        var body = session.Command(InsertBody);
        body.Parameters.AddWithValue("$seq", sequence);
        body.Parameters.AddWithValue("$workflow", run.Workflow);
        body.Parameters.AddWithValue("$metadata", (object?)run.Metadata ?? DBNull.Value);
        body.Parameters.AddWithValue("$webhook", run.Webhook is null ? DBNull.Value : JsonSerializer.Serialize(run.Webhook, Json));
        body.Parameters.AddWithValue("$extra", (object?)run.ExtraData ?? DBNull.Value);
        await body.ExecuteNonQueryAsync(cancellationToken);
        foreach (var runEvent in events)
        {
            await InsertEventAsync(session, runEvent, cancellationToken);
        }

        return new SubmitResult(SubmitOutcome.Created, run with { Sequence = sequence });
    }

    /// <summary>Counts at most <paramref name="limit"/> queued runs: whether the limit is reached is all the caller asks.</summary>
    private static async Task<long> CountQueuedAsync(SqliteSession session, string sql, string scope, int limit, CancellationToken cancellationToken)
    {
        var command = session.Command(sql);
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$limit", limit);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<bool> UpdateInTransactionAsync(SqliteSession session, RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken)
    {
        var update = session.Command(UpdateRun);
        BindRun(update, run);
        update.Parameters.AddWithValue("$client", (object?)run.ClientId ?? DBNull.Value);
        await update.ExecuteNonQueryAsync(cancellationToken);
        if (runEvent is not null)
        {
            await InsertEventAsync(session, runEvent, cancellationToken);
        }

        return true;
    }

    private static async Task InsertEventAsync(SqliteSession session, RunEvent runEvent, CancellationToken cancellationToken)
    {
        var command = session.Command(InsertEvent);
        command.Parameters.AddWithValue("$id", runEvent.RunId);
        command.Parameters.AddWithValue("$seq", runEvent.Sequence);
        command.Parameters.AddWithValue("$type", runEvent.Type);
        command.Parameters.AddWithValue("$data", runEvent.Data);
        command.Parameters.AddWithValue("$at", runEvent.At.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes up to <see cref="PruneBatch"/> runs beyond the limit, then as many older than the age bound; returns their ids.</summary>
    private static async Task<List<string>> PruneBatchAsync(SqliteSession session, int keep, DateTimeOffset? finishedBefore, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var cutoffQuery = session.Command(SelectPruneCutoff);
        cutoffQuery.Parameters.AddWithValue("$keep", keep);

        // Everything at or below the cutoff goes by the limit; the age bound then looks only above it.
        var cutoff = await cutoffQuery.ExecuteScalarAsync(cancellationToken) as long? ?? 0;
        if (cutoff > 0)
        {
            var select = session.Command(SelectPrunable);
            select.Parameters.AddWithValue("$cutoff", cutoff);
            select.Parameters.AddWithValue("$batch", PruneBatch);
            await ReadIdsAsync(select, ids, cancellationToken);
        }

        if (finishedBefore is not null && ids.Count < PruneBatch)
        {
            var select = session.Command(SelectExpired);
            select.Parameters.AddWithValue("$before", finishedBefore.Value.ToUnixTimeMilliseconds());
            select.Parameters.AddWithValue("$cutoff", cutoff);
            select.Parameters.AddWithValue("$batch", PruneBatch - ids.Count);
            await ReadIdsAsync(select, ids, cancellationToken);
        }

        foreach (var id in ids)
        {
            var delete = session.Command(DeleteRun);
            delete.Parameters.AddWithValue("$id", id);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        return ids;
    }

    private static async Task ReadIdsAsync(SqliteCommand command, List<string> ids, CancellationToken cancellationToken)
    {
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }
    }

    private static RunRecord? FirstOrNull(List<RunRecord> runs) => runs.Count == 0 ? null : runs[0];

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

    private static void BindOwnerAndKey(SqliteCommand command, string? owner, string? key)
    {
        command.Parameters.AddWithValue("$owner", (object?)owner ?? DBNull.Value);
        command.Parameters.AddWithValue("$key", (object?)key ?? DBNull.Value);
    }

    private static object Millis(DateTimeOffset? value) => value is null ? DBNull.Value : value.Value.ToUnixTimeMilliseconds();

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
                ExtraData = reader.IsDBNull(24) ? null : reader.GetString(24),
            });
        }

        return runs;
    }

    private static DateTimeOffset? ReadTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
}
