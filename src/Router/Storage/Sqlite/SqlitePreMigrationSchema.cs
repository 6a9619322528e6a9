using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>
/// A database written by a router from before numbered migrations: each store created its own
/// tables when it first opened the file and patched older shapes in place. This brings any such
/// file to migration 1's schema without losing a row; <see cref="SqliteMigrator"/> runs it (and then
/// migration 1's statements, which create whatever table or index is still missing) in one
/// transaction.
/// </summary>
internal static class SqlitePreMigrationSchema
{
    /// <summary>Columns added to <c>runs</c> after its first version, in the order routers added them.</summary>
    private static readonly string[] AddedRunColumns = ["inputs", "webhook", "deployment", "owner", "client_id"];

    private const string RunColumnNames =
        "seq, id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs, " +
        "cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id";

    /// <summary>True when one of the tables routers created before migrations exists.</summary>
    public static async Task<bool> IsPresentAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        foreach (var table in (string[])["runs", "run_events", "webhook_deliveries", "abandoned_prompts"])
        {
            if (await TableExistsAsync(connection, transaction, table, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    public static async Task<bool> TableExistsAsync(SqliteConnection connection, SqliteTransaction transaction, string table, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    /// <summary>Adds the columns older routers lacked, then scopes idempotency keys per owner.</summary>
    public static async Task UpgradeAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        if (!await TableExistsAsync(connection, transaction, "runs", cancellationToken))
        {
            return;
        }

        foreach (var column in AddedRunColumns)
        {
            using var find = connection.CreateCommand();
            find.Transaction = transaction;
            find.CommandText = "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name = $name";
            find.Parameters.AddWithValue("$name", column);
            if ((long)(await find.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                // Nullable: old rows read as "none".
                await SqliteMigrator.ExecuteAsync(connection, transaction, $"ALTER TABLE runs ADD COLUMN {column} TEXT NULL", cancellationToken);
            }
        }

        await ScopeIdempotencyKeysPerOwnerAsync(connection, transaction, cancellationToken);
    }

    /// <summary>
    /// Routers before owner scoping declared <c>idempotency_key ... UNIQUE</c> on the column: one key for
    /// all callers. A column constraint cannot be dropped in SQLite, so the table is rebuilt (SQLite's
    /// documented way: create the new table, copy, drop the old, rename). Sequence numbers are copied
    /// as they are and the AUTOINCREMENT counter is carried over, so new runs keep numbering above
    /// every run ever stored (list cursors rely on it). Events live in their own table keyed by run id
    /// and are untouched. Does nothing once the old constraint is gone.
    /// </summary>
    private static async Task ScopeIdempotencyKeysPerOwnerAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        using (var find = connection.CreateCommand())
        {
            // origin 'u' = an index SQLite made for a UNIQUE constraint in CREATE TABLE (not one made with CREATE INDEX).
            find.Transaction = transaction;
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

        long? counter;
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT seq FROM sqlite_sequence WHERE name = 'runs'";
            counter = await read.ExecuteScalarAsync(cancellationToken) is long value ? value : null;
        }

        await SqliteMigrator.ExecuteAsync(connection, transaction, $"""
            DROP TABLE IF EXISTS runs_rebuild;
            CREATE TABLE runs_rebuild (
            {SqliteMigrations.RunsColumnsV1});
            INSERT INTO runs_rebuild ({RunColumnNames}) SELECT {RunColumnNames} FROM runs ORDER BY seq;
            DROP TABLE runs;
            ALTER TABLE runs_rebuild RENAME TO runs;
            """, cancellationToken);

        using var finish = connection.CreateCommand();

        // The copy set the counter to the highest seq still stored; runs pruned above it had used higher numbers.
        finish.Transaction = transaction;
        finish.CommandText = """
            UPDATE sqlite_sequence SET seq = MAX(seq, $counter) WHERE name = 'runs';
            INSERT INTO sqlite_sequence (name, seq) SELECT 'runs', $counter WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs');
            """;
        finish.Parameters.AddWithValue("$counter", counter ?? 0);
        await finish.ExecuteNonQueryAsync(cancellationToken);
    }
}
