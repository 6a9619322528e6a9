using ComfyOperator.Router.Workers;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="IAbandonedPromptStore"/> in the <c>abandoned_prompts</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresAbandonedPromptStore(PostgresRouterDatabase database) : IAbandonedPromptStore
{
    private const string Upsert = """
        INSERT INTO abandoned_prompts (prompt_id, run_id, worker, give_up_at) VALUES (@prompt, @run, @worker, @giveUp)
        ON CONFLICT (prompt_id) DO UPDATE SET run_id = excluded.run_id, worker = excluded.worker, give_up_at = excluded.give_up_at
        """;

    private const string Delete = "DELETE FROM abandoned_prompts WHERE prompt_id = ANY(@prompts)";

    private const string SelectAll = "SELECT prompt_id, run_id, worker, give_up_at FROM abandoned_prompts ORDER BY give_up_at";

    public Task AddAsync(AbandonedPrompt prompt, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Upsert);
                Add(command, "prompt", NpgsqlDbType.Text, prompt.PromptId);
                Add(command, "run", NpgsqlDbType.Text, prompt.RunId);
                Add(command, "worker", NpgsqlDbType.Text, prompt.Worker.ToString());
                Add(command, "giveUp", NpgsqlDbType.Bigint, prompt.GiveUpAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);

    public Task RemoveAsync(IReadOnlyCollection<string> promptIds, CancellationToken cancellationToken) =>
        promptIds.Count == 0
            ? Task.CompletedTask
            : database.RunAsync(
                async (connection, ct) =>
                {
                    await using var command = database.Command(connection, Delete);
                    Add(command, "prompts", NpgsqlDbType.Array | NpgsqlDbType.Text, promptIds.ToArray());
                    return await command.ExecuteNonQueryAsync(ct);
                },
                cancellationToken);

    public Task<IReadOnlyList<AbandonedPrompt>> ListAsync(CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<AbandonedPrompt>>(
            async (connection, ct) =>
            {
                var list = new List<AbandonedPrompt>();
                await using var command = database.Command(connection, SelectAll);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    if (Uri.TryCreate(reader.GetString(2), UriKind.Absolute, out var worker))
                    {
                        list.Add(new AbandonedPrompt(worker, reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
                    }
                }

                return list;
            },
            cancellationToken);
}
