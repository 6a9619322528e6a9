using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workers;

namespace ComfyOperator.Router.Tests.Workers;

public sealed class SqliteAbandonedPromptStoreTests : IDisposable
{
    private static readonly DateTimeOffset GiveUpAt = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private readonly string _directory = Directory.CreateTempSubdirectory("router-abandoned-").FullName;

    private string DatabasePath => Path.Combine(_directory, "router.db");

    [Fact]
    public async Task Reopen_AfterAddAndRemove_ListsWhatIsLeft()
    {
        var worker = new Uri("http://gpu1:8188/");
        await using (var runs = new SqliteRunStore(DatabasePath))
        {
            // The file is shared with the run store.
            await runs.InitializeAsync(CancellationToken.None);
        }

        await using (var store = new SqliteAbandonedPromptStore(DatabasePath))
        {
            await store.AddAsync(new AbandonedPrompt(worker, "p-1", "run-1", GiveUpAt), CancellationToken.None);
            await store.AddAsync(new AbandonedPrompt(worker, "p-2", "run-2", GiveUpAt.AddSeconds(1)), CancellationToken.None);
            await store.AddAsync(new AbandonedPrompt(worker, "p-2", "run-2", GiveUpAt.AddSeconds(1)), CancellationToken.None);
            await store.RemoveAsync(["p-1"], CancellationToken.None);
        }

        await using var reopened = new SqliteAbandonedPromptStore(DatabasePath);
        var left = await reopened.ListAsync(CancellationToken.None);

        Assert.Equal([new AbandonedPrompt(worker, "p-2", "run-2", GiveUpAt.AddSeconds(1))], left);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
