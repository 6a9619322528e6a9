namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// The router database's schema on PostgreSQL, as numbered migrations (applied in order by
/// <see cref="PostgresMigrator"/>). The same tables and indexes as on SQLite; times are Unix
/// milliseconds in <c>bigint</c>, JSON is kept as text (the store reads and writes it whole). Add a
/// migration at the end to change the schema; never edit one that has shipped.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>
    /// An idempotency key is unique per owner (API key or user; null = auth off): COALESCE because
    /// NULLs never collide in a unique index. Webhook deliveries are unique per (run, event, url), so
    /// a replayed run end never sends a second success. The partial indexes over finished runs let
    /// history pruning step over the newest HistoryLimit entries instead of sorting every finished run.
    /// </summary>
    public static readonly SchemaMigration Initial = new(1, "initial schema: runs, run_events, webhook_deliveries, abandoned_prompts", """
        CREATE TABLE runs (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            status text NOT NULL,
            priority integer NOT NULL,
            idempotency_key text NULL,
            workflow text NOT NULL,
            metadata text NULL,
            attempts integer NOT NULL,
            worker text NULL,
            prompt_id text NULL,
            reason text NULL,
            failure text NULL,
            outputs text NULL,
            cancel_requested boolean NOT NULL,
            queued_at bigint NOT NULL,
            dispatched_at bigint NULL,
            started_at bigint NULL,
            finished_at bigint NULL,
            last_event_seq bigint NOT NULL,
            inputs text NULL,
            webhook text NULL,
            deployment text NULL,
            owner text NULL,
            client_id text NULL);
        CREATE INDEX runs_status_seq ON runs (status, seq);
        CREATE UNIQUE INDEX runs_owner_idempotency_key ON runs ((COALESCE(owner, '')), idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX runs_finished_seq ON runs (seq) WHERE status IN ('succeeded', 'failed', 'cancelled');
        CREATE INDEX runs_finished_at ON runs (finished_at) WHERE status IN ('succeeded', 'failed', 'cancelled');
        CREATE TABLE run_events (
            run_id text NOT NULL,
            seq bigint NOT NULL,
            type text NOT NULL,
            data text NOT NULL,
            at bigint NOT NULL,
            PRIMARY KEY (run_id, seq));
        CREATE TABLE webhook_deliveries (
            id text PRIMARY KEY,
            run_id text NOT NULL,
            event text NOT NULL,
            url text NOT NULL,
            body text NOT NULL,
            status text NOT NULL,
            attempts integer NOT NULL,
            created_at bigint NOT NULL,
            next_attempt_at bigint NOT NULL,
            last_attempt_at bigint NULL,
            last_status_code integer NULL,
            last_error text NULL,
            delivered_at bigint NULL,
            UNIQUE (run_id, event, url));
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE TABLE abandoned_prompts (
            prompt_id text PRIMARY KEY,
            run_id text NOT NULL,
            worker text NOT NULL,
            give_up_at bigint NOT NULL);
        """);

    /// <summary>
    /// Workers added through <c>POST /v1/nodes</c> (labels as a JSON object), API keys created through
    /// <c>POST /v1/keys</c> (only their SHA-256), and runs by submission time for the usage report.
    /// </summary>
    public static readonly SchemaMigration NodesAndKeys = new(2, "nodes and api_keys tables, runs by queued_at for usage", """
        CREATE TABLE nodes (
            url text PRIMARY KEY,
            labels text NOT NULL,
            max_queue integer NULL,
            cordoned boolean NOT NULL,
            draining boolean NOT NULL,
            added_at bigint NOT NULL);
        CREATE TABLE api_keys (
            id text PRIMARY KEY,
            name text NOT NULL,
            hash text NOT NULL UNIQUE,
            admin boolean NOT NULL,
            created_at bigint NOT NULL,
            revoked_at bigint NULL);
        CREATE INDEX runs_queued_at ON runs (queued_at);
        """);

    /// <summary>
    /// Active/active replicas: a lease per worker (<c>worker_leases</c>, times from the server's clock so
    /// replicas' clocks do not matter), the replicas alive (<c>router_replicas</c>, for each one's share of
    /// the workers), and a trigger that notifies <c>comfy_run_cancels</c> when a cancel request is stored,
    /// prefixed with the writer's <c>application_name</c> (the replica's id) so a replica can skip its own.
    /// Run events are not notified by a trigger: a notifying transaction holds a database-wide lock from its
    /// notification to the end of its commit, WAL flush included, which would serialise every run write
    /// (<see cref="PostgresReplicaNotifier"/> notifies them after they commit instead).
    /// </summary>
    public static readonly SchemaMigration ReplicaCoordination = new(3, "worker_leases, router_replicas, cancel notifications", """
        CREATE TABLE worker_leases (
            worker text PRIMARY KEY,
            holder text NOT NULL,
            expires_at timestamptz NOT NULL);
        CREATE TABLE router_replicas (
            id text PRIMARY KEY,
            expires_at timestamptz NOT NULL);
        CREATE FUNCTION comfy_notify_run_cancel() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('comfy_run_cancels', current_setting('application_name') || ' ' || NEW.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER runs_cancel_notify AFTER UPDATE OF cancel_requested ON runs
            FOR EACH ROW WHEN (NEW.cancel_requested AND NOT OLD.cancel_requested) EXECUTE FUNCTION comfy_notify_run_cancel();
        """);

    /// <summary>The web UI's user files (saved workflows, settings), per caller; content as written.</summary>
    public static readonly SchemaMigration UserFiles = new(4, "user_files table for the web UI's user state", """
        CREATE TABLE user_files (
            owner text NOT NULL,
            path text NOT NULL,
            content bytea NOT NULL,
            size bigint NOT NULL,
            modified_at bigint NOT NULL,
            PRIMARY KEY (owner, path));
        """);

    /// <summary>
    /// The data-protection key ring that encrypts the web UI's session cookies, one XML element per row
    /// (keys and revocations), so every replica reads the keys the others made.
    /// </summary>
    public static readonly SchemaMigration DataProtectionKeys = new(5, "data_protection_keys table for the session cookies' key ring", """
        CREATE TABLE data_protection_keys (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL UNIQUE,
            xml text NOT NULL,
            created_at bigint NOT NULL);
        """);

    /// <summary>ComfyUI's <c>extra_data</c> of a run from <c>POST /prompt</c>, posted with the prompt at every dispatch.</summary>
    public static readonly SchemaMigration RunExtraData = new(6, "runs.extra_data for ComfyUI's extra_data", """
        ALTER TABLE runs ADD COLUMN extra_data text NULL;
        """);

    /// <summary>Queued runs by owner and by workflow, for the pending limits decided at insert (<see cref="PostgresRunStore"/>).</summary>
    public static readonly SchemaMigration QueuedRunIndexes = new(7, "queued runs by owner and by workflow, for pending limits", """
        CREATE INDEX runs_queued_owner ON runs (owner) WHERE status = 'queued';
        CREATE INDEX runs_queued_deployment ON runs (deployment) WHERE status = 'queued';
        """);

    /// <summary>
    /// A run's parts written once at insert and never changed (the graph, metadata, webhook and ComfyUI's
    /// <c>extra_data</c>) move to <c>run_bodies</c>, keyed by the run's sequence, so a status change writes a
    /// small <c>runs</c> tuple. Existing rows move; the dropped columns' space is reused as rows are rewritten.
    /// </summary>
    public static readonly SchemaMigration RunBodies = new(8, "run_bodies: a run's graph, metadata, webhook and extra_data apart from its state", """
        CREATE TABLE run_bodies (
            seq bigint PRIMARY KEY,
            workflow text NOT NULL,
            metadata text NULL,
            webhook text NULL,
            extra_data text NULL);
        INSERT INTO run_bodies (seq, workflow, metadata, webhook, extra_data) SELECT seq, workflow, metadata, webhook, extra_data FROM runs;
        ALTER TABLE runs DROP COLUMN workflow, DROP COLUMN metadata, DROP COLUMN webhook, DROP COLUMN extra_data;
        """);

    /// <summary>Every migration, in order.</summary>
    public static readonly IReadOnlyList<SchemaMigration> All = [Initial, NodesAndKeys, ReplicaCoordination, UserFiles, DataProtectionKeys, RunExtraData, QueuedRunIndexes, RunBodies];
}
