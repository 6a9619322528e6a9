using ComfyOperator.Router.Keys;
using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="IApiKeyStore"/> in the <c>api_keys</c> table of the router's SQLite database.</summary>
internal sealed class SqliteApiKeyStore(SqliteRouterDatabase database) : IApiKeyStore
{
    private const string Insert = """
        INSERT OR IGNORE INTO api_keys (id, name, hash, admin, created_at, revoked_at)
        VALUES ($id, $name, $hash, $admin, $createdAt, NULL)
        """;

    private const string Columns = "id, name, hash, admin, created_at, revoked_at";

    private const string SelectByHash = "SELECT " + Columns + " FROM api_keys WHERE hash = $hash";

    private const string SelectAll = "SELECT " + Columns + " FROM api_keys ORDER BY created_at, id";

    private const string Revoke = "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL";

    public Task<bool> CreateAsync(StoredApiKey key, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Insert);
                command.Parameters.AddWithValue("$id", key.Id);
                command.Parameters.AddWithValue("$name", key.Name);
                command.Parameters.AddWithValue("$hash", key.Hash);
                command.Parameters.AddWithValue("$admin", key.Admin ? 1 : 0);
                command.Parameters.AddWithValue("$createdAt", key.CreatedAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<StoredApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (session, ct) =>
            {
                var command = session.Command(SelectByHash);
                command.Parameters.AddWithValue("$hash", hash);
                using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct) ? Read(reader) : null;
            },
            cancellationToken);

    public Task<IReadOnlyList<StoredApiKey>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<StoredApiKey>>(
            async (session, ct) =>
            {
                var list = new List<StoredApiKey>();
                using var reader = await session.Command(SelectAll).ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    list.Add(Read(reader));
                }

                return list;
            },
            cancellationToken);

    public Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Revoke);
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    private static StoredApiKey Read(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3) != 0,
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
}
