using ComfyOperator.Router.Runs;
using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Tests.Runs;

public sealed class SqliteRunStoreTests : IDisposable
{
    /// <summary>The schema routers wrote before idempotency keys were scoped per owner: one key for all callers.</summary>
    private const string GlobalKeySchema = """
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
            inputs TEXT NULL,
            webhook TEXT NULL,
            deployment TEXT NULL,
            owner TEXT NULL,
            client_id TEXT NULL);
        CREATE INDEX IF NOT EXISTS runs_status_seq ON runs (status, seq);
        CREATE TABLE IF NOT EXISTS run_events (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (run_id, seq));
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("router-store-").FullName;

    private string DatabasePath => Path.Combine(_directory, "runs.db");

    [Fact]
    public async Task ListAsync_Paging_WalksNewestFirstWithoutGapsOrRepeats()
    {
        await using var store = await OpenAsync();
        for (var i = 0; i < 25; i++)
        {
            await InsertAsync(store, $"run-{i:00}");
        }

        var seen = new List<string>();
        long? before = null;
        do
        {
            var page = await store.ListAsync(null, 10, before, CancellationToken.None);
            seen.AddRange(page.Runs.Select(r => r.Id));
            before = page.NextBefore;
        }
        while (before is not null);

        Assert.Equal(Enumerable.Range(0, 25).Reverse().Select(i => $"run-{i:00}"), seen);
    }

    [Fact]
    public async Task ListAsync_StatusFilter_OnlyThatStatus()
    {
        await using var store = await OpenAsync();
        var run = await InsertAsync(store, "a");
        await InsertAsync(store, "b");
        await store.UpdateAsync(run with { Status = RunStatus.Failed, LastEventSequence = 2 }, Event("a", 2, RunEventTypes.Failed), CancellationToken.None);

        var page = await store.ListAsync(RunStatus.Failed, 10, null, CancellationToken.None);

        Assert.Equal(["a"], page.Runs.Select(r => r.Id));
        Assert.Null(page.NextBefore);
    }

    [Fact]
    public async Task InsertAsync_SameIdempotencyKey_ReturnsOriginal()
    {
        await using var store = await OpenAsync();
        var first = await InsertAsync(store, "first", key: "order-7");

        var (second, created) = await store.InsertAsync(NewRun("second", "order-7"), Event("second", 1, RunEventTypes.Queued), CancellationToken.None);

        Assert.False(created);
        Assert.Equal(first.Id, second.Id);
        Assert.Null(await store.GetAsync("second", CancellationToken.None));
    }

    [Fact]
    public async Task InsertAsync_SameKeyDifferentOwners_CreatesOneRunEach()
    {
        await using var store = await OpenAsync();
        await InsertAsync(store, "a", key: "order-7", owner: "key-aaaaaaaa");
        await InsertAsync(store, "b", key: "order-7", owner: "key-bbbbbbbb");
        await InsertAsync(store, "anonymous", key: "order-7", owner: null);

        var (again, created) = await store.InsertAsync(NewRun("again", "order-7", "key-bbbbbbbb"), Event("again", 1, RunEventTypes.Queued), CancellationToken.None);
        var (anonymousAgain, anonymousCreated) = await store.InsertAsync(NewRun("anonymous-again", "order-7", null), Event("anonymous-again", 1, RunEventTypes.Queued), CancellationToken.None);

        Assert.False(created);
        Assert.Equal("b", again.Id);
        Assert.False(anonymousCreated);
        Assert.Equal("anonymous", anonymousAgain.Id);
        Assert.Equal("a", (await store.GetByIdempotencyKeyAsync("key-aaaaaaaa", "order-7", CancellationToken.None))?.Id);
        Assert.Equal("b", (await store.GetByIdempotencyKeyAsync("key-bbbbbbbb", "order-7", CancellationToken.None))?.Id);
        Assert.Equal("anonymous", (await store.GetByIdempotencyKeyAsync(null, "order-7", CancellationToken.None))?.Id);
        Assert.Null(await store.GetByIdempotencyKeyAsync("key-cccccccc", "order-7", CancellationToken.None));
    }

    [Fact]
    public async Task InsertAsync_ConcurrentSameKeyFromTwoOwners_ExactlyOneRunPerOwner()
    {
        await using var store = await OpenAsync();
        string[] owners = ["key-aaaaaaaa", "key-bbbbbbbb"];

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            store.InsertAsync(NewRun($"run-{i}", "same", owners[i % 2]), Event($"run-{i}", 1, RunEventTypes.Queued), CancellationToken.None))));

        Assert.Equal(2, results.Count(r => r.Created));
        foreach (var owner in owners)
        {
            var theirs = results.Where(r => r.Run.Owner == owner).ToList();
            Assert.Equal(20, theirs.Count);
            Assert.Single(theirs.Select(r => r.Run.Id).Distinct());
        }

        var stored = await store.ListAsync(null, 100, null, CancellationToken.None);
        Assert.Equal(owners, stored.Runs.Select(r => r.Owner).Order());
    }

    [Fact]
    public async Task InitializeAsync_DatabaseWithGlobalIdempotencyKeys_RebuildsKeepingRunsEventsAndSequence()
    {
        await using (var old = await OpenRawAsync())
        {
            await ExecuteAsync(old, GlobalKeySchema + """
                INSERT INTO runs (seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs,
                                  cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id)
                VALUES (3, 'done', 'failed', 5, 'order-1', '{"1":{}}', '{"ticket":9}', 2, 'http://gpu1:8188/', 'p-1', 'boom',
                        '{"code":"execution_error","message":"boom","nodeId":"3","nodeType":"KSampler"}', '[{"name":"a.png","nodeId":"9","contentType":"image/png","size":10}]',
                        1, 1000, 2000, 3000, 4000, 3, '[{"nodeId":"1","input":"image","kind":0,"source":"https://x/y.png","fileName":"y.png"}]',
                        '{"url":"https://hooks.example/a","events":["run.failed"]}', 'sd15', 'key-aaaaaaaa', 'c-1'),
                       (5, 'waiting', 'queued', 0, NULL, '{}', NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 5000, NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL),
                       (8, 'pruned', 'succeeded', 0, 'order-2', '{}', NULL, 1, NULL, NULL, NULL, NULL, NULL, 0, 6000, NULL, NULL, 7000, 2, NULL, NULL, NULL, 'key-aaaaaaaa', NULL);
                DELETE FROM runs WHERE id = 'pruned';
                INSERT INTO run_events (run_id, seq, type, data, at) VALUES
                    ('done', 1, 'queued', '{"status":"queued"}', 1000), ('done', 2, 'started', '{}', 3000), ('done', 3, 'failed', '{}', 4000),
                    ('waiting', 1, 'queued', '{"status":"queued"}', 5000);
                """);
        }

        var runsBefore = await ReadRowsAsync("SELECT * FROM runs ORDER BY seq");
        var eventsBefore = await ReadRowsAsync("SELECT * FROM run_events ORDER BY run_id, seq");

        await using (var store = await OpenAsync())
        {
            Assert.Equal(runsBefore, await ReadRowsAsync("SELECT * FROM runs ORDER BY seq"));
            Assert.Equal(eventsBefore, await ReadRowsAsync("SELECT * FROM run_events ORDER BY run_id, seq"));
            var done = await store.GetAsync("done", CancellationToken.None);
            Assert.Equal((3L, RunStatus.Failed, "KSampler", "a.png", "y.png", "https://hooks.example/a"),
                (done?.Sequence, done?.Status, done?.Failure?.NodeType, done?.Outputs.Single().Name, done?.Inputs.Single().FileName, done?.Webhook?.Url));
            Assert.Equal([RunEventTypes.Queued, RunEventTypes.Started, RunEventTypes.Failed], (await store.GetEventsAsync("done", 0, CancellationToken.None)).Select(e => e.Type));

            // Above every seq ever handed out (8 was pruned), not just above the highest one left.
            var other = await InsertAsync(store, "other-owner", key: "order-1", owner: "key-bbbbbbbb");
            Assert.Equal(9, other.Sequence);
            var (same, created) = await store.InsertAsync(NewRun("same-owner", "order-1", "key-aaaaaaaa"), Event("same-owner", 1, RunEventTypes.Queued), CancellationToken.None);
            Assert.False(created);
            Assert.Equal("done", same.Id);
            var page = await store.ListAsync(null, 10, null, CancellationToken.None);
            Assert.Equal(["other-owner", "waiting", "done"], page.Runs.Select(r => r.Id));
        }

        var schemaAfterRebuild = await ReadRowsAsync("SELECT type, name, sql FROM sqlite_master ORDER BY name");
        var versionAfterRebuild = await ReadRowsAsync("PRAGMA schema_version");
        await using (var reopened = await OpenAsync())
        {
            Assert.Equal(10, (await InsertAsync(reopened, "later")).Sequence);
        }

        Assert.Equal(schemaAfterRebuild, await ReadRowsAsync("SELECT type, name, sql FROM sqlite_master ORDER BY name"));
        Assert.Equal(versionAfterRebuild, await ReadRowsAsync("PRAGMA schema_version"));
    }

    [Fact]
    public async Task Reopen_AfterRestart_KeepsRunsEventsAndState()
    {
        await using (var store = await OpenAsync())
        {
            var run = await InsertAsync(store, "keep");
            var running = run with
            {
                Status = RunStatus.Running,
                Worker = "http://gpu1:8188/",
                PromptId = "p-1",
                ClientId = "c-1",
                Attempts = 1,
                LastEventSequence = 2,
                Failure = new RunFailure("x", "y", "3", "KSampler"),
                Outputs = [new RunOutput("a.png", "9", "image/png", 10)],
            };
            await store.UpdateAsync(running, Event("keep", 2, RunEventTypes.Started), CancellationToken.None);
        }

        await using var reopened = await OpenAsync();
        var loaded = await reopened.GetAsync("keep", CancellationToken.None);
        var unfinished = await reopened.ListUnfinishedAsync(CancellationToken.None);
        var events = await reopened.GetEventsAsync("keep", 0, CancellationToken.None);

        Assert.NotNull(loaded);
        Assert.Equal(RunStatus.Running, loaded.Status);
        Assert.Equal("p-1", loaded.PromptId);
        Assert.Equal("c-1", loaded.ClientId);
        Assert.Equal("KSampler", loaded.Failure?.NodeType);
        Assert.Equal("a.png", Assert.Single(loaded.Outputs).Name);
        Assert.Equal(["keep"], unfinished.Select(r => r.Id));
        Assert.Equal([RunEventTypes.Queued, RunEventTypes.Started], events.Select(e => e.Type));
    }

    [Fact]
    public async Task PruneAsync_BeyondHistoryLimit_RemovesOldestFinishedOnly()
    {
        await using var store = await OpenAsync();
        for (var i = 0; i < 5; i++)
        {
            var run = await InsertAsync(store, $"done-{i}");
            await store.UpdateAsync(run with { Status = RunStatus.Succeeded, FinishedAt = DateTimeOffset.UnixEpoch.AddSeconds(i), LastEventSequence = 2 }, null, CancellationToken.None);
        }

        await InsertAsync(store, "waiting");

        var pruned = await store.PruneAsync(2, null, CancellationToken.None);

        Assert.Equal(["done-0", "done-1", "done-2"], pruned.Order());
        Assert.NotNull(await store.GetAsync("waiting", CancellationToken.None));
        Assert.Empty(await store.GetEventsAsync("done-0", 0, CancellationToken.None));
    }

    [Fact]
    public async Task PruneAsync_OlderThanAge_RemovesThemEvenUnderLimit()
    {
        await using var store = await OpenAsync();
        var old = await InsertAsync(store, "old");
        await store.UpdateAsync(old with { Status = RunStatus.Failed, FinishedAt = DateTimeOffset.UnixEpoch }, null, CancellationToken.None);
        var recent = await InsertAsync(store, "recent");
        await store.UpdateAsync(recent with { Status = RunStatus.Failed, FinishedAt = DateTimeOffset.UnixEpoch.AddDays(10) }, null, CancellationToken.None);

        var pruned = await store.PruneAsync(100, DateTimeOffset.UnixEpoch.AddDays(1), CancellationToken.None);

        Assert.Equal(["old"], pruned);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<SqliteRunStore> OpenAsync()
    {
        var store = new SqliteRunStore(DatabasePath);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    private async Task<SqliteConnection> OpenRawAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Every row as column = value text, read straight from the file (a second connection, as a backup tool would).</summary>
    private async Task<List<string>> ReadRowsAsync(string sql)
    {
        await using var connection = await OpenRawAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(", ", Enumerable.Range(0, reader.FieldCount).Select(i => $"{reader.GetName(i)}={(reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))}")));
        }

        return rows;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<RunRecord> InsertAsync(SqliteRunStore store, string id, string? key = null, string? owner = null)
    {
        var (run, created) = await store.InsertAsync(NewRun(id, key, owner), Event(id, 1, RunEventTypes.Queued), CancellationToken.None);
        Assert.True(created, $"{id} was not created: {run.Id} came back for key {key}");
        return run;
    }

    private static RunRecord NewRun(string id, string? key, string? owner = null) => new()
    {
        Id = id,
        Workflow = "{}",
        IdempotencyKey = key,
        Owner = owner,
        QueuedAt = DateTimeOffset.UnixEpoch,
        LastEventSequence = 1,
    };

    private static RunEvent Event(string id, long sequence, string type) => new(id, sequence, type, "{}", DateTimeOffset.UnixEpoch);
}
