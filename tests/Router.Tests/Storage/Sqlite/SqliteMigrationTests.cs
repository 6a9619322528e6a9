using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Storage.Sqlite;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static ComfyOperator.Router.Tests.Support.StoreRecords;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

/// <summary>
/// Opening the router database: numbered migrations on a fresh file, and in-place upgrades of files
/// written before migrations were numbered. <c>Data/router-before-migrations.db</c> was written by the
/// router's own stores just before this layer (queued, dispatching, running, succeeded, failed and
/// cancelled runs with their events, one run pruned so the sequence counter is ahead of the highest
/// stored run, webhook deliveries delivered, pending and failed, two abandoned prompts).
/// </summary>
public sealed class SqliteMigrationTests : IDisposable
{
    private const string Queued = "00000000-0000-7000-8000-000000000007";
    private const string Succeeded = "00000000-0000-7000-8000-000000000002";

    private static readonly string[] Tables = ["runs", "run_events", "webhook_deliveries", "abandoned_prompts", "sqlite_sequence"];

    /// <summary>
    /// Each run as one row in the columns of <c>runs</c> before migration 8 (migration 1's, then <c>extra_data</c>):
    /// its state from <c>runs</c>, its body from <c>run_bodies</c>.
    /// </summary>
    private const string RunsAsOneRow = """
        SELECT seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs,
               cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id, extra_data
        FROM runs JOIN run_bodies USING (seq) ORDER BY seq
        """;

    /// <summary>The runs table of routers from before idempotency keys were scoped per owner: migration 1's columns with the key unique for all callers.</summary>
    private static readonly string GlobalKeySchema =
        "CREATE TABLE IF NOT EXISTS runs (" + SqliteMigrations.RunsColumnsV1.Replace("idempotency_key TEXT NULL,", "idempotency_key TEXT NULL UNIQUE,", StringComparison.Ordinal) + ");\n" + SqliteMigrations.RunEventsTableV1 + """
        CREATE INDEX IF NOT EXISTS runs_status_seq ON runs (status, seq);
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("router-migrations-").FullName;
    private readonly string _path;

    public SqliteMigrationTests()
    {
        _path = Path.Combine(_directory, "router.db");
    }

    [Fact]
    public async Task Open_DatabaseFromBeforeMigrations_KeepsEveryRowAndRecordsVersion1()
    {
        CopyOldDatabase(_path);
        var before = await ReadTablesAsync(_path);

        await using (await OpenAsync(_path))
        {
        }

        var after = await ReadTablesAsync(_path);
        Assert.All(after.Where(r => r.StartsWith("runs: ", StringComparison.Ordinal)), r => Assert.EndsWith(RunColumnsAddedLater, r, StringComparison.Ordinal));
        Assert.Equal(before, WithoutRunColumnsAddedLater(after));
        Assert.Equal(Enumerable.Range(1, SqliteMigrations.All.Count), (await ReadRowsAsync(_path, "SELECT version FROM schema_migrations ORDER BY version")).Select(r => int.Parse(r["version=".Length..], CultureInfo.InvariantCulture)));
        Assert.Equal([$"name={SqliteMigrations.Initial.Name}"], await ReadRowsAsync(_path, "SELECT name FROM schema_migrations WHERE version = 1"));
    }

    [Fact]
    public async Task Open_DatabaseFromBeforeMigrations_StoresReadEveryRowAndNewWritesContinueTheSequences()
    {
        CopyOldDatabase(_path);
        await using var database = await OpenAsync(_path);
        var runs = new SqliteRunStore(database);

        var all = (await runs.ListAsync(RunQuery.All, 100, null, CancellationToken.None)).Runs;
        Assert.Equal(
            [("8", RunStatus.Queued), ("7", RunStatus.Queued), ("6", RunStatus.Dispatching), ("5", RunStatus.Running), ("4", RunStatus.Cancelled), ("3", RunStatus.Failed), ("2", RunStatus.Succeeded)],
            all.Select(r => (r.Id[^1..], r.Status)));
        Assert.Equal(15, (await Task.WhenAll(all.Select(r => runs.GetEventsAsync(r.Id, 0, CancellationToken.None)))).Sum(e => e.Count));
        var succeeded = await runs.GetAsync(Succeeded, CancellationToken.None);
        Assert.Equal(
            ("order-1", "key-aaaaaaaa", "sd15", "{\"ticket\":9}", "sha256-abc.png", "https://hooks.example/a", "images/ComfyUI_00001_.png", "c-1", 5L),
            (succeeded?.IdempotencyKey, succeeded?.Owner, succeeded?.Deployment, succeeded?.Metadata, succeeded?.Inputs.Single().FileName, succeeded?.Webhook?.Url, succeeded?.Outputs.Single().StorePath, succeeded?.ClientId, succeeded?.LastEventSequence));
        Assert.Equal(
            [RunEventTypes.Queued, RunEventTypes.Dispatching, RunEventTypes.Started, RunEventTypes.Progress, RunEventTypes.Succeeded],
            (await runs.GetEventsAsync(Succeeded, 0, CancellationToken.None)).Select(e => e.Type));
        Assert.Equal("KSampler", (await runs.GetAsync("00000000-0000-7000-8000-000000000003", CancellationToken.None))?.Failure?.NodeType);
        Assert.Equal(["5", "6", "7", "8"], (await runs.ListUnfinishedAsync(CancellationToken.None)).Select(r => r.Id[^1..]));
        Assert.Equal(Queued, (await runs.GetByIdempotencyKeyAsync(null, "order-1", CancellationToken.None))?.Id);
        Assert.Equal(
            [(WebhookDelivery.Delivered, 1), (WebhookDelivery.Pending, 1), (WebhookDelivery.Failed, 1)],
            (await Task.WhenAll(all.Select(r => new SqliteWebhookStore(database).ListAsync(r.Id, CancellationToken.None)))).SelectMany(d => d).OrderBy(d => d.Id).Select(d => (d.Status, d.Attempts)));
        Assert.Equal(["p-old-5", "p-old-6"], (await new SqliteAbandonedPromptStore(database).ListAsync(CancellationToken.None)).Select(p => p.PromptId));

        // Run 9 was pruned: new runs number above it, and a run's events go on from its last one.
        var created = await InsertAsync(runs, "new");
        Assert.Equal(9, created.Sequence);
        var queued = (await runs.GetAsync(Queued, CancellationToken.None))!;
        await runs.UpdateAsync(queued with { Status = RunStatus.Cancelled, LastEventSequence = 2 }, Event(Queued, 2, RunEventTypes.Cancelled), CancellationToken.None);
        Assert.Equal([1L, 2L], (await runs.GetEventsAsync(Queued, 0, CancellationToken.None)).Select(e => e.Sequence));
        var first = await runs.ListAsync(RunQuery.All, 2, null, CancellationToken.None);
        Assert.Equal(["new", "00000000-0000-7000-8000-000000000008"], first.Runs.Select(r => r.Id));
        Assert.Equal(["7"], (await runs.ListAsync(RunQuery.All, 1, first.NextBefore, CancellationToken.None)).Runs.Select(r => r.Id[^1..]));
    }

    [Fact]
    public async Task Open_DatabaseFromBeforeMigrations_HasTheSchemaOfAFreshDatabase()
    {
        CopyOldDatabase(_path);
        var fresh = Path.Combine(_directory, "fresh.db");
        await using (await OpenAsync(_path))
        await using (await OpenAsync(fresh))
        {
        }

        Assert.Equal(await DescribeSchemaAsync(fresh), await DescribeSchemaAsync(_path));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Open_Again_ChangesNothing(bool fromBeforeMigrations)
    {
        if (fromBeforeMigrations)
        {
            CopyOldDatabase(_path);
        }

        await using (await OpenAsync(_path))
        {
        }

        var schema = await ReadRowsAsync(_path, "SELECT type, name, sql FROM sqlite_master ORDER BY name");
        var version = await ReadRowsAsync(_path, "PRAGMA schema_version");
        var rows = await ReadTablesAsync(_path);
        var migrations = await ReadRowsAsync(_path, "SELECT * FROM schema_migrations ORDER BY version");
        await using (await OpenAsync(_path))
        {
        }

        Assert.Equal(schema, await ReadRowsAsync(_path, "SELECT type, name, sql FROM sqlite_master ORDER BY name"));
        Assert.Equal(version, await ReadRowsAsync(_path, "PRAGMA schema_version"));
        Assert.Equal(rows, await ReadTablesAsync(_path));
        Assert.Equal(migrations, await ReadRowsAsync(_path, "SELECT * FROM schema_migrations ORDER BY version"));
        Assert.Equal(SqliteMigrations.All.Count, migrations.Count);
    }

    [Fact]
    public async Task Open_DatabaseFromANewerRouter_Refused()
    {
        await using (await OpenAsync(_path))
        {
        }

        await using (var newer = await OpenRawAsync(_path))
        {
            await ExecuteAsync(newer, $"INSERT INTO schema_migrations (version, name, applied_at) VALUES ({SqliteMigrations.All.Count + 1}, 'from the future', 0)");
        }

        await using var database = new SqliteRouterDatabase(_path);
        var refused = await Assert.ThrowsAsync<ComfyOperator.Router.Storage.StorageException>(() => database.OpenAsync(CancellationToken.None));
        Assert.Contains("newer router", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Router_OnDatabaseFromBeforeMigrations_ServesOldRunsAndTakesNewOnes()
    {
        var data = Path.Combine(_directory, "data");
        Directory.CreateDirectory(data);
        CopyOldDatabase(Path.Combine(data, "router.db"));
        await using var router = new RouterFactory(dataDirectory: data);
        using var client = router.CreateAuthorizedClient();

        var succeeded = await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{Succeeded}");
        Assert.Equal("succeeded", succeeded.GetProperty("status").GetString());
        using var submitted = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(steps: 1)));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        using var cancel = await client.DeleteAsync($"/v1/runs/{Queued}");
        Assert.True(cancel.IsSuccessStatusCode, $"cancel answered {cancel.StatusCode}");

        var list = await client.GetFromJsonAsync<JsonElement>("/v1/runs?limit=100");
        var ids = list.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(id, ids[0]);
        Assert.Equal(8, ids.Count);
        var events = await router.Services.GetRequiredService<IRunStore>().GetEventsAsync(Queued, 0, CancellationToken.None);
        Assert.Equal([(1L, RunEventTypes.Queued), (2L, RunEventTypes.Cancelled)], events.Select(e => (e.Sequence, e.Type)));
    }

    [Fact]
    public async Task Open_DatabaseWithGlobalIdempotencyKeys_RebuildsKeepingRunsEventsAndSequence()
    {
        await using (var old = await OpenRawAsync(_path))
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

        var runsBefore = await ReadRowsAsync(_path, "SELECT * FROM runs ORDER BY seq");
        var eventsBefore = await ReadRowsAsync(_path, "SELECT * FROM run_events ORDER BY run_id, seq");

        await using (var database = await OpenAsync(_path))
        {
            IRunStore store = new SqliteRunStore(database);
            Assert.Equal(runsBefore, WithoutRunColumnsAddedLater(await ReadRowsAsync(_path, RunsAsOneRow)));
            Assert.Equal(eventsBefore, await ReadRowsAsync(_path, "SELECT * FROM run_events ORDER BY run_id, seq"));
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
            var page = await store.ListAsync(RunQuery.All, 10, null, CancellationToken.None);
            Assert.Equal(["other-owner", "waiting", "done"], page.Runs.Select(r => r.Id));
        }

        var schemaAfterRebuild = await ReadRowsAsync(_path, "SELECT type, name, sql FROM sqlite_master ORDER BY name");
        var versionAfterRebuild = await ReadRowsAsync(_path, "PRAGMA schema_version");
        await using (var database = await OpenAsync(_path))
        {
            Assert.Equal(10, (await InsertAsync(new SqliteRunStore(database), "later")).Sequence);
        }

        Assert.Equal(schemaAfterRebuild, await ReadRowsAsync(_path, "SELECT type, name, sql FROM sqlite_master ORDER BY name"));
        Assert.Equal(versionAfterRebuild, await ReadRowsAsync(_path, "PRAGMA schema_version"));
    }

    [Fact]
    public async Task Open_DatabaseAtMigration7_MovesRunBodiesKeepingEveryRunUsable()
    {
        await using (var old = await OpenRawAsync(_path))
        {
            await ExecuteAsync(old, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);");
            foreach (var migration in SqliteMigrations.All.TakeWhile(m => m.Version < SqliteMigrations.RunBodies.Version))
            {
                await ExecuteAsync(old, migration.Sql);
                using var record = old.CreateCommand();
                record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($version, $name, 0)";
                record.Parameters.AddWithValue("$version", migration.Version);
                record.Parameters.AddWithValue("$name", migration.Name);
                await record.ExecuteNonQueryAsync();
            }

            await ExecuteAsync(old, RunBodiesUpgrade.Seed);
        }

        await using var database = await OpenAsync(_path);

        Assert.Equal(SqliteMigrations.All.Count, (await ReadRowsAsync(_path, "SELECT version FROM schema_migrations")).Count);
        await RunBodiesUpgrade.AssertIntactAndUsableAsync(
            new SqliteRunStore(database),
            new SqliteWebhookStore(database),
            async () => long.Parse((await ReadRowsAsync(_path, "SELECT COUNT(*) AS n FROM run_bodies")).Single()["n=".Length..], CultureInfo.InvariantCulture));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void CopyOldDatabase(string path) =>
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Storage", "Sqlite", "Data", "router-before-migrations.db"), path);

    private static async Task<SqliteRouterDatabase> OpenAsync(string path)
    {
        var database = new SqliteRouterDatabase(path);
        await database.OpenAsync(CancellationToken.None);
        return database;
    }

    private static async Task<SqliteConnection> OpenRawAsync(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Columns later migrations add to <c>runs</c> (after the old columns, empty on old rows).</summary>
    private const string RunColumnsAddedLater = ", extra_data=null";

    /// <summary>Rows as they read before the later migrations added their (empty) columns.</summary>
    private static List<string> WithoutRunColumnsAddedLater(IEnumerable<string> rows) =>
        [.. rows.Select(r => r.EndsWith(RunColumnsAddedLater, StringComparison.Ordinal) ? r[..^RunColumnsAddedLater.Length] : r)];

    /// <summary>Every row of the stores' tables, read straight from the file.</summary>
    private static async Task<List<string>> ReadTablesAsync(string path)
    {
        var rows = new List<string>();
        var split = (await ReadRowsAsync(path, "SELECT name FROM sqlite_master WHERE name = 'run_bodies'")).Count > 0;
        foreach (var table in Tables)
        {
            var query = table == "runs" && split ? RunsAsOneRow : $"SELECT * FROM {table} ORDER BY 1, 2";
            rows.AddRange((await ReadRowsAsync(path, query)).Select(r => table + ": " + r));
        }

        return rows;
    }

    /// <summary>Columns (name, type, not null, default, key) and indexes (columns, unique, partial, their SQL) of every table.</summary>
    private static async Task<List<string>> DescribeSchemaAsync(string path)
    {
        var description = new List<string>();
        foreach (var table in (string[])["runs", "run_bodies", "run_events", "webhook_deliveries", "abandoned_prompts", "schema_migrations"])
        {
            description.AddRange(await ReadRowsAsync(path, $"SELECT '{table}' AS tbl, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}') ORDER BY cid"));
            description.AddRange(await ReadRowsAsync(path, $"""
                SELECT '{table}' AS tbl, list.name, list."unique", list.origin, list.partial,
                       (SELECT group_concat(name, ',') FROM pragma_index_info(list.name)) AS columns,
                       (SELECT sql FROM sqlite_master WHERE type = 'index' AND name = list.name) AS sql
                FROM pragma_index_list('{table}') AS list ORDER BY list.name
                """));
        }

        return description;
    }

    /// <summary>Every row as column = value text, read straight from the file (a second connection, as a backup tool would).</summary>
    private static async Task<List<string>> ReadRowsAsync(string path, string sql)
    {
        await using var connection = await OpenRawAsync(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(", ", Enumerable.Range(0, reader.FieldCount).Select(i => $"{reader.GetName(i)}={(reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))}")));
        }

        return rows;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
