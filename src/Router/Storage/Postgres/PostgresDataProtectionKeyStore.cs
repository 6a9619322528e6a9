using ComfyOperator.Router.Security;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="IDataProtectionKeyStore"/> in the <c>data_protection_keys</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresDataProtectionKeyStore(PostgresRouterDatabase database) : IDataProtectionKeyStore
{
    private const string List = "SELECT xml FROM data_protection_keys ORDER BY seq";

    private const string Insert = """
        INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @created)
        ON CONFLICT (name) DO NOTHING
        """;

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<string>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, List);
                var elements = new List<string>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    elements.Add(reader.GetString(0));
                }

                return elements;
            },
            cancellationToken);

    public Task AddAsync(string name, string xml, DateTimeOffset created, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Insert);
                Add(command, "name", NpgsqlDbType.Text, name);
                Add(command, "xml", NpgsqlDbType.Text, xml);
                Add(command, "created", NpgsqlDbType.Bigint, created.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);
}
