using ComfyOperator.Router.Security;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="IDataProtectionKeyStore"/> in the <c>data_protection_keys</c> table of the router's SQLite database.</summary>
internal sealed class SqliteDataProtectionKeyStore(SqliteRouterDatabase database) : IDataProtectionKeyStore
{
    private const string List = "SELECT xml FROM data_protection_keys ORDER BY seq";

    private const string Insert = "INSERT OR IGNORE INTO data_protection_keys (name, xml, created_at) VALUES ($name, $xml, $created)";

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async (session, ct) =>
            {
                var command = session.Command(List);
                var elements = new List<string>();
                using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    elements.Add(reader.GetString(0));
                }

                return elements;
            },
            cancellationToken);

    public Task AddAsync(string name, string xml, DateTimeOffset created, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Insert);
                command.Parameters.AddWithValue("$name", name);
                command.Parameters.AddWithValue("$xml", xml);
                command.Parameters.AddWithValue("$created", created.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);
}
