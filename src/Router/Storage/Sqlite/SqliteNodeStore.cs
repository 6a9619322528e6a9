using System.Text.Json;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="INodeStore"/> in the <c>nodes</c> table of the router's SQLite database.</summary>
internal sealed class SqliteNodeStore(SqliteRouterDatabase database) : INodeStore
{
    private const string Insert = """
        INSERT OR IGNORE INTO nodes (url, labels, max_queue, cordoned, draining, added_at)
        VALUES ($url, $labels, $maxQueue, $cordoned, $draining, $addedAt)
        """;

    private const string Update = "UPDATE nodes SET cordoned = $cordoned, draining = $draining WHERE url = $url";

    private const string Delete = "DELETE FROM nodes WHERE url = $url";

    private const string SelectAll = "SELECT url, labels, max_queue, cordoned, draining, added_at FROM nodes ORDER BY added_at, url";

    public Task<IReadOnlyList<StoredNode>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<StoredNode>>(
            async (session, ct) =>
            {
                var list = new List<StoredNode>();
                using var reader = await session.Command(SelectAll).ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var labels = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(1)) ?? [];
                    list.Add(new StoredNode(
                        new Uri(reader.GetString(0)),
                        labels,
                        reader.IsDBNull(2) ? null : reader.GetInt32(2),
                        reader.GetInt64(3) != 0,
                        reader.GetInt64(4) != 0,
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
                }

                return list;
            },
            cancellationToken);

    public Task<bool> AddAsync(StoredNode node, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Insert);
                command.Parameters.AddWithValue("$url", node.Url.ToString());
                command.Parameters.AddWithValue("$labels", JsonSerializer.Serialize(node.Labels));
                command.Parameters.AddWithValue("$maxQueue", node.MaxQueue is { } max ? max : DBNull.Value);
                command.Parameters.AddWithValue("$cordoned", node.Cordoned ? 1 : 0);
                command.Parameters.AddWithValue("$draining", node.Draining ? 1 : 0);
                command.Parameters.AddWithValue("$addedAt", node.AddedAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> UpdateAsync(StoredNode node, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Update);
                command.Parameters.AddWithValue("$url", node.Url.ToString());
                command.Parameters.AddWithValue("$cordoned", node.Cordoned ? 1 : 0);
                command.Parameters.AddWithValue("$draining", node.Draining ? 1 : 0);
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> RemoveAsync(Uri url, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Delete);
                command.Parameters.AddWithValue("$url", url.ToString());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);
}
