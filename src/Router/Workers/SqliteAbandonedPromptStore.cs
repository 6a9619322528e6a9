using ComfyOperator.Router.Storage;
using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// The abandoned prompts in their own table of the router's SQLite file, so a restart keeps removing
/// them from their workers (a worker unreachable when the router stopped may still run one later).
/// One connection behind a gate, like the webhook queue; writes are rare (one per given-up attempt).
/// </summary>
internal sealed class SqliteAbandonedPromptStore : IAsyncDisposable, IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS abandoned_prompts (
            prompt_id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            worker TEXT NOT NULL,
            give_up_at INTEGER NOT NULL);
        """;

    private readonly SqliteGatedConnection _database;

    public SqliteAbandonedPromptStore(string path)
    {
        _database = new SqliteGatedConnection(path, Schema);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => _database.InitializeAsync(cancellationToken);

    public Task AddAsync(AbandonedPrompt prompt, CancellationToken cancellationToken) =>
        WithConnectionAsync(
            async connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = """
                    INSERT OR REPLACE INTO abandoned_prompts (prompt_id, run_id, worker, give_up_at)
                    VALUES ($prompt, $run, $worker, $giveUp)
                    """;
                command.Parameters.AddWithValue("$prompt", prompt.PromptId);
                command.Parameters.AddWithValue("$run", prompt.RunId);
                command.Parameters.AddWithValue("$worker", prompt.Worker.ToString());
                command.Parameters.AddWithValue("$giveUp", prompt.GiveUpAt.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(cancellationToken);
            },
            cancellationToken);

    public Task RemoveAsync(IReadOnlyCollection<string> promptIds, CancellationToken cancellationToken) =>
        promptIds.Count == 0
            ? Task.CompletedTask
            : WithConnectionAsync(
                async connection =>
                {
                    using var transaction = connection.BeginTransaction();
                    foreach (var promptId in promptIds)
                    {
                        using var command = connection.CreateCommand();
                        command.Transaction = transaction;
                        command.CommandText = "DELETE FROM abandoned_prompts WHERE prompt_id = $prompt";
                        command.Parameters.AddWithValue("$prompt", promptId);
                        await command.ExecuteNonQueryAsync(cancellationToken);
                    }

                    await transaction.CommitAsync(cancellationToken);
                    return promptIds.Count;
                },
                cancellationToken);

    public Task<IReadOnlyList<AbandonedPrompt>> ListAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<AbandonedPrompt>>(
            async connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT prompt_id, run_id, worker, give_up_at FROM abandoned_prompts ORDER BY give_up_at";
                var list = new List<AbandonedPrompt>();
                using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (Uri.TryCreate(reader.GetString(2), UriKind.Absolute, out var worker))
                    {
                        list.Add(new AbandonedPrompt(worker, reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
                    }
                }

                return list;
            },
            cancellationToken);

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    public void Dispose() => _database.Dispose();

    private Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken) =>
        _database.WithConnectionAsync(action, cancellationToken);
}
