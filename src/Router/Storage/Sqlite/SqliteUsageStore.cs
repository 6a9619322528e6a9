using ComfyOperator.Router.Keys;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="IUsageStore"/> over the <c>runs</c> table of the router's SQLite database.</summary>
internal sealed class SqliteUsageStore(SqliteRouterDatabase database) : IUsageStore
{
    private const string Select = """
        SELECT owner, deployment, COUNT(*),
               SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
               SUM(CASE WHEN finished_at IS NOT NULL AND COALESCE(started_at, dispatched_at) IS NOT NULL
                        THEN finished_at - COALESCE(started_at, dispatched_at) ELSE 0 END)
        FROM runs WHERE queued_at >= $since
        GROUP BY owner, deployment
        ORDER BY owner, deployment
        """;

    public Task<IReadOnlyList<UsageRow>> UsageAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<UsageRow>>(
            async (session, ct) =>
            {
                var command = session.Command(Select);
                command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
                var rows = new List<UsageRow>();
                using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add(new UsageRow(
                        reader.IsDBNull(0) ? null : reader.GetString(0),
                        reader.IsDBNull(1) ? null : reader.GetString(1),
                        reader.GetInt64(2),
                        reader.GetInt64(3),
                        reader.GetInt64(4) / 1000.0));
                }

                return rows;
            },
            cancellationToken);
}
