namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>
/// The router database's schema, as numbered migrations (applied in order by <see cref="SqliteMigrator"/>).
/// Add a migration at the end to change the schema; never edit one that has shipped. Times are Unix
/// milliseconds (bigint on PostgreSQL).
/// </summary>
internal static class SqliteMigrations
{
    /// <summary>The columns of <c>runs</c> in migration 1 (also what the pre-migrations rebuild creates).</summary>
    public const string RunsColumnsV1 = """
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
        client_id TEXT NULL
        """;

    /// <summary>The <c>run_events</c> table of migration 1 (also older routers' shape).</summary>
    public const string RunEventsTableV1 = """
        CREATE TABLE IF NOT EXISTS run_events (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (run_id, seq));

        """;

    /// <summary>
    /// The schema as routers wrote it before migrations were numbered. An idempotency key is unique
    /// per owner (API key or user; null = auth off), so two callers that pick the same key get their
    /// own runs: COALESCE because NULLs never collide in a unique index. Webhook deliveries are unique
    /// per (run, event, url), so a restart that replays a run's end never sends a second success.
    /// </summary>
    public static readonly SchemaMigration Initial = new(1, "initial schema: runs, run_events, webhook_deliveries, abandoned_prompts", "CREATE TABLE IF NOT EXISTS runs (\n" + RunsColumnsV1 + ");\n" + RunEventsTableV1 + """
        CREATE INDEX IF NOT EXISTS runs_status_seq ON runs (status, seq);
        CREATE UNIQUE INDEX IF NOT EXISTS runs_owner_idempotency_key ON runs (COALESCE(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL;
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
        CREATE TABLE IF NOT EXISTS abandoned_prompts (
            prompt_id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            worker TEXT NOT NULL,
            give_up_at INTEGER NOT NULL);
        """);

    /// <summary>
    /// Partial indexes over finished runs, so history pruning finds its cutoff by stepping over the
    /// newest HistoryLimit entries of one index instead of sorting every finished run, and finds runs
    /// older than HistoryMaxAge by a range. The WHERE clause is the one the run store's queries use.
    /// </summary>
    public static readonly SchemaMigration FinishedRunIndexes = new(2, "partial indexes over finished runs for history pruning", """
        CREATE INDEX IF NOT EXISTS runs_finished_seq ON runs (seq) WHERE status IN ('succeeded', 'failed', 'cancelled');
        CREATE INDEX IF NOT EXISTS runs_finished_at ON runs (finished_at) WHERE status IN ('succeeded', 'failed', 'cancelled');
        """);

    /// <summary>
    /// Workers added through <c>POST /v1/nodes</c> (labels as a JSON object), API keys created through
    /// <c>POST /v1/keys</c> (only the SHA-256 of the key, hex), and an index on the submission time for
    /// the usage report over the last day or week.
    /// </summary>
    public static readonly SchemaMigration NodesAndKeys = new(3, "nodes and api_keys tables, runs by queued_at for usage", """
        CREATE TABLE IF NOT EXISTS nodes (
            url TEXT PRIMARY KEY,
            labels TEXT NOT NULL,
            max_queue INTEGER NULL,
            cordoned INTEGER NOT NULL,
            draining INTEGER NOT NULL,
            added_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            admin INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER NULL);
        CREATE INDEX IF NOT EXISTS runs_queued_at ON runs (queued_at);
        """);

    /// <summary>The web UI's user files (saved workflows, settings), per caller; content as written.</summary>
    public static readonly SchemaMigration UserFiles = new(4, "user_files table for the web UI's user state", """
        CREATE TABLE IF NOT EXISTS user_files (
            owner TEXT NOT NULL,
            path TEXT NOT NULL,
            content BLOB NOT NULL,
            size INTEGER NOT NULL,
            modified_at INTEGER NOT NULL,
            PRIMARY KEY (owner, path));
        """);

    /// <summary>
    /// The data-protection key ring that encrypts the web UI's session cookies, one XML element per row
    /// (keys and revocations), so it survives restarts with the database instead of beside it.
    /// </summary>
    public static readonly SchemaMigration DataProtectionKeys = new(5, "data_protection_keys table for the session cookies' key ring", """
        CREATE TABLE IF NOT EXISTS data_protection_keys (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            xml TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        """);

    /// <summary>ComfyUI's <c>extra_data</c> of a run from <c>POST /prompt</c>, posted with the prompt at every dispatch.</summary>
    public static readonly SchemaMigration RunExtraData = new(6, "runs.extra_data for ComfyUI's extra_data", """
        ALTER TABLE runs ADD COLUMN extra_data TEXT NULL;
        """);

    /// <summary>Queued runs by owner and by workflow, for the pending limits decided at insert.</summary>
    public static readonly SchemaMigration QueuedRunIndexes = new(7, "queued runs by owner and by workflow, for pending limits", """
        CREATE INDEX IF NOT EXISTS runs_queued_owner ON runs (owner) WHERE status = 'queued';
        CREATE INDEX IF NOT EXISTS runs_queued_deployment ON runs (deployment) WHERE status = 'queued';
        """);

    /// <summary>
    /// A run's parts written once at insert and never changed (the graph, metadata, webhook and ComfyUI's
    /// <c>extra_data</c>) move to <c>run_bodies</c>, keyed by the run's sequence, so each of a run's status
    /// changes rewrites only its small <c>runs</c> row: SQLite writes a whole record on every UPDATE, and a
    /// graph of tens of KB spills into overflow pages that every change copied again. Existing rows move.
    /// </summary>
    public static readonly SchemaMigration RunBodies = new(8, "run_bodies: a run's graph, metadata, webhook and extra_data apart from its state", """
        CREATE TABLE run_bodies (
            seq INTEGER PRIMARY KEY,
            workflow TEXT NOT NULL,
            metadata TEXT NULL,
            webhook TEXT NULL,
            extra_data TEXT NULL);
        INSERT INTO run_bodies (seq, workflow, metadata, webhook, extra_data) SELECT seq, workflow, metadata, webhook, extra_data FROM runs;
        ALTER TABLE runs DROP COLUMN workflow;
        ALTER TABLE runs DROP COLUMN metadata;
        ALTER TABLE runs DROP COLUMN webhook;
        ALTER TABLE runs DROP COLUMN extra_data;
        """);

    /// <summary>Every migration, in order.</summary>
    public static readonly IReadOnlyList<SchemaMigration> All = [Initial, FinishedRunIndexes, NodesAndKeys, UserFiles, DataProtectionKeys, RunExtraData, QueuedRunIndexes, RunBodies];
}
