using ComfyOperator.Router.Keys;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="IUsageStore"/> over the <c>runs</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresUsageStore(PostgresRouterDatabase database) : IUsageStore
{
    private const string Select = """
        SELECT owner, deployment, COUNT(*),
               COUNT(*) FILTER (WHERE status = 'failed'),
               COALESCE(SUM(finished_at - COALESCE(started_at, dispatched_at))
                        FILTER (WHERE finished_at IS NOT NULL AND COALESCE(started_at, dispatched_at) IS NOT NULL), 0)
        FROM runs WHERE queued_at >= @since
        GROUP BY owner, deployment
        ORDER BY owner NULLS FIRST, deployment NULLS FIRST
        """;

    public Task<IReadOnlyList<UsageRow>> UsageAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<UsageRow>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Select);
                Add(command, "since", NpgsqlDbType.Bigint, since.ToUnixTimeMilliseconds());
                var rows = new List<UsageRow>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add(new UsageRow(
                        reader.IsDBNull(0) ? null : reader.GetString(0),
                        reader.IsDBNull(1) ? null : reader.GetString(1),
                        reader.GetInt64(2),
                        reader.GetInt64(3),
                        Convert.ToInt64(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture) / 1000.0));
                }

                return rows;
            },
            cancellationToken);
}
