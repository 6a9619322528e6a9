using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>
/// Brings the router database to the current schema: the migrations of <see cref="SqliteMigrations"/>
/// not yet recorded in <c>schema_migrations</c> are applied in order, each in its own transaction
/// together with its record. A database written before migrations were numbered (its tables exist,
/// <c>schema_migrations</c> does not) is first upgraded in place to migration 1 by
/// <see cref="SqlitePreMigrationSchema"/> and recorded as at version 1.
/// </summary>
internal static class SqliteMigrator
{
    private const string MigrationsTable = """
        CREATE TABLE schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL);
        """;

    /// <summary>Applies what is missing; returns the migrations applied now (empty when the schema was current).</summary>
    public static async Task<IReadOnlyList<SchemaMigration>> MigrateAsync(SqliteConnection connection, TimeProvider time, CancellationToken cancellationToken)
    {
        var applied = new List<SchemaMigration>();

        // BEGIN IMMEDIATE (the default): a second process opening the file waits for this one.
        using (var transaction = connection.BeginTransaction())
        {
            if (!await SqlitePreMigrationSchema.TableExistsAsync(connection, transaction, "schema_migrations", cancellationToken))
            {
                var before = await SqlitePreMigrationSchema.IsPresentAsync(connection, transaction, cancellationToken);
                await ExecuteAsync(connection, transaction, MigrationsTable, cancellationToken);
                if (before)
                {
                    await SqlitePreMigrationSchema.UpgradeAsync(connection, transaction, cancellationToken);
                    await ExecuteAsync(connection, transaction, SqliteMigrations.Initial.Sql, cancellationToken);
                    await RecordAsync(connection, transaction, SqliteMigrations.Initial, time, cancellationToken);
                    applied.Add(SqliteMigrations.Initial);
                }
            }

            await transaction.CommitAsync(cancellationToken);
        }

        foreach (var migration in SqliteMigrations.All)
        {
            using var transaction = connection.BeginTransaction();
            var current = await CurrentVersionAsync(connection, transaction, cancellationToken);
            if (current > SqliteMigrations.All[^1].Version)
            {
                throw new StorageException(
                    $"The router database is at schema version {current}, written by a newer router; this one knows versions up to {SqliteMigrations.All[^1].Version}.");
            }

            if (await IsRecordedAsync(connection, transaction, migration.Version, cancellationToken))
            {
                continue;
            }

            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await RecordAsync(connection, transaction, migration, time, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            applied.Add(migration);
        }

        return applied;
    }

    private static async Task<long> CurrentVersionAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<bool> IsRecordedAsync(SqliteConnection connection, SqliteTransaction transaction, int version, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE version = $version";
        command.Parameters.AddWithValue("$version", version);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    private static async Task RecordAsync(SqliteConnection connection, SqliteTransaction transaction, SchemaMigration migration, TimeProvider time, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($version, $name, $at)";
        command.Parameters.AddWithValue("$version", migration.Version);
        command.Parameters.AddWithValue("$name", migration.Name);
        command.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
