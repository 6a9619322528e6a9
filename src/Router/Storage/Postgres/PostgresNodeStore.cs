using System.Text.Json;
using ComfyOperator.Router.Nodes;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="INodeStore"/> in the <c>nodes</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresNodeStore(PostgresRouterDatabase database) : INodeStore
{
    private const string Insert = """
        INSERT INTO nodes (url, labels, max_queue, cordoned, draining, added_at)
        VALUES (@url, @labels, @maxQueue, @cordoned, @draining, @addedAt)
        ON CONFLICT (url) DO NOTHING
        """;

    private const string Update = "UPDATE nodes SET cordoned = @cordoned, draining = @draining WHERE url = @url";

    private const string Delete = "DELETE FROM nodes WHERE url = @url";

    private const string SelectAll = "SELECT url, labels, max_queue, cordoned, draining, added_at FROM nodes ORDER BY added_at, url";

    public Task<IReadOnlyList<StoredNode>> ListAsync(CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<StoredNode>>(
            async (connection, ct) =>
            {
                var list = new List<StoredNode>();
                await using var command = database.Command(connection, SelectAll);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    list.Add(new StoredNode(
                        new Uri(reader.GetString(0)),
                        JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(1)) ?? [],
                        reader.IsDBNull(2) ? null : reader.GetInt32(2),
                        reader.GetBoolean(3),
                        reader.GetBoolean(4),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
                }

                return list;
            },
            cancellationToken);

    public Task<bool> AddAsync(StoredNode node, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Insert);
                Add(command, "url", NpgsqlDbType.Text, node.Url.ToString());
                Add(command, "labels", NpgsqlDbType.Text, JsonSerializer.Serialize(node.Labels));
                Add(command, "maxQueue", NpgsqlDbType.Integer, node.MaxQueue);
                Add(command, "cordoned", NpgsqlDbType.Boolean, node.Cordoned);
                Add(command, "draining", NpgsqlDbType.Boolean, node.Draining);
                Add(command, "addedAt", NpgsqlDbType.Bigint, node.AddedAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> UpdateAsync(StoredNode node, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Update);
                Add(command, "url", NpgsqlDbType.Text, node.Url.ToString());
                Add(command, "cordoned", NpgsqlDbType.Boolean, node.Cordoned);
                Add(command, "draining", NpgsqlDbType.Boolean, node.Draining);
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> RemoveAsync(Uri url, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Delete);
                Add(command, "url", NpgsqlDbType.Text, url.ToString());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);
}
