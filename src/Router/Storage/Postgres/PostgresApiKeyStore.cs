using System.Data.Common;
using ComfyOperator.Router.Keys;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="IApiKeyStore"/> in the <c>api_keys</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresApiKeyStore(PostgresRouterDatabase database) : IApiKeyStore
{
    private const string Insert = """
        INSERT INTO api_keys (id, name, hash, admin, created_at, revoked_at)
        VALUES (@id, @name, @hash, @admin, @createdAt, NULL)
        ON CONFLICT DO NOTHING
        """;

    private const string Columns = "id, name, hash, admin, created_at, revoked_at";

    private const string SelectByHash = "SELECT " + Columns + " FROM api_keys WHERE hash = @hash";

    private const string SelectAll = "SELECT " + Columns + " FROM api_keys ORDER BY created_at, id";

    private const string Revoke = "UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL";

    public Task<bool> CreateAsync(StoredApiKey key, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Insert);
                Add(command, "id", NpgsqlDbType.Text, key.Id);
                Add(command, "name", NpgsqlDbType.Text, key.Name);
                Add(command, "hash", NpgsqlDbType.Text, key.Hash);
                Add(command, "admin", NpgsqlDbType.Boolean, key.Admin);
                Add(command, "createdAt", NpgsqlDbType.Bigint, key.CreatedAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<StoredApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, SelectByHash);
                Add(command, "hash", NpgsqlDbType.Text, hash);
                await using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct) ? Read(reader) : null;
            },
            cancellationToken);

    public Task<IReadOnlyList<StoredApiKey>> ListAsync(CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<StoredApiKey>>(
            async (connection, ct) =>
            {
                var list = new List<StoredApiKey>();
                await using var command = database.Command(connection, SelectAll);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    list.Add(Read(reader));
                }

                return list;
            },
            cancellationToken);

    public Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Revoke);
                Add(command, "id", NpgsqlDbType.Text, id);
                Add(command, "at", NpgsqlDbType.Bigint, at.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    private static StoredApiKey Read(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetBoolean(3),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
}
