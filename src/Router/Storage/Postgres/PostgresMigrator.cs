using Npgsql;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// Brings the router database to the current schema: the migrations of <see cref="PostgresMigrations"/>
/// not yet recorded in <c>schema_migrations</c> are applied in order, each in its own transaction
/// together with its record. The whole pass holds a session-level advisory lock, so replicas that
/// start together migrate one after the other: the first applies, the others find everything recorded.
/// </summary>
internal static class PostgresMigrator
{
    /// <summary>The advisory lock key of the migration pass ("comfymig" in ASCII): one number every router agrees on.</summary>
    internal const long LockKey = 0x636f6d66796d6967;

    private const string MigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at bigint NOT NULL);
        """;

    /// <summary>Applies what is missing; returns the migrations applied now (empty when the schema was current).</summary>
    public static async Task<IReadOnlyList<SchemaMigration>> MigrateAsync(
        NpgsqlConnection connection, IReadOnlyList<SchemaMigration> migrations, TimeProvider time, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, MigrationsTable, cancellationToken);
            var applied = new List<SchemaMigration>();
            var recorded = await RecordedAsync(connection, cancellationToken);
            var newest = migrations.Count == 0 ? 0 : migrations[^1].Version;
            if (recorded.Count > 0 && recorded.Max() > newest)
            {
                throw new StorageException(
                    $"The router database is at schema version {recorded.Max()}, written by a newer router; this one knows versions up to {newest}.");
            }

            foreach (var migration in migrations.Where(m => !recorded.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
                await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)", connection, transaction))
                {
                    record.Parameters.AddWithValue("version", migration.Version);
                    record.Parameters.AddWithValue("name", migration.Name);
                    record.Parameters.AddWithValue("at", time.GetUtcNow().ToUnixTimeMilliseconds());
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                applied.Add(migration);
            }

            return applied;
        }
        finally
        {
            // Not cancellable: a lock left behind would hold every other replica's start.
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    private static async Task<HashSet<int>> RecordedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var versions = new HashSet<int>();
        await using var command = new NpgsqlCommand("SELECT version FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
