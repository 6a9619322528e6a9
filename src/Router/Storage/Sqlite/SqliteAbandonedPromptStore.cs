using ComfyOperator.Router.Workers;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="IAbandonedPromptStore"/> in the <c>abandoned_prompts</c> table of the router's SQLite database.</summary>
internal sealed class SqliteAbandonedPromptStore(SqliteRouterDatabase database) : IAbandonedPromptStore
{
    private const string Upsert = """
        INSERT OR REPLACE INTO abandoned_prompts (prompt_id, run_id, worker, give_up_at)
        VALUES ($prompt, $run, $worker, $giveUp)
        """;

    private const string Delete = "DELETE FROM abandoned_prompts WHERE prompt_id = $prompt";

    private const string SelectAll = "SELECT prompt_id, run_id, worker, give_up_at FROM abandoned_prompts ORDER BY give_up_at";

    public Task AddAsync(AbandonedPrompt prompt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Upsert);
                command.Parameters.AddWithValue("$prompt", prompt.PromptId);
                command.Parameters.AddWithValue("$run", prompt.RunId);
                command.Parameters.AddWithValue("$worker", prompt.Worker.ToString());
                command.Parameters.AddWithValue("$giveUp", prompt.GiveUpAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);

    public Task RemoveAsync(IReadOnlyCollection<string> promptIds, CancellationToken cancellationToken) =>
        promptIds.Count == 0
            ? Task.CompletedTask
            : database.WriteAsync(
                async (session, ct) =>
                {
                    foreach (var promptId in promptIds)
                    {
                        var command = session.Command(Delete);
                        command.Parameters.AddWithValue("$prompt", promptId);
                        await command.ExecuteNonQueryAsync(ct);
                    }

                    return promptIds.Count;
                },
                cancellationToken);

    public Task<IReadOnlyList<AbandonedPrompt>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<AbandonedPrompt>>(
            async (session, ct) =>
            {
                var list = new List<AbandonedPrompt>();
                using var reader = await session.Command(SelectAll).ExecuteReaderAsync(ct);
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
