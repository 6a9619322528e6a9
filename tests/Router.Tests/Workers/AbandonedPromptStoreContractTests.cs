using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Workers;

namespace ComfyOperator.Router.Tests.Workers;

/// <summary>What every <see cref="IAbandonedPromptStore"/> must do; one subclass per implementation.</summary>
public abstract class AbandonedPromptStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset GiveUpAt = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task Reopen_AfterAddAndRemove_ListsWhatIsLeft()
    {
        var worker = new Uri("http://gpu1:8188/");
        await using (var session = await Database.OpenAsync())
        {
            var store = session.AbandonedPrompts;
            await store.AddAsync(new AbandonedPrompt(worker, "p-1", "run-1", GiveUpAt), CancellationToken.None);
            await store.AddAsync(new AbandonedPrompt(worker, "p-2", "run-2", GiveUpAt.AddSeconds(1)), CancellationToken.None);
            await store.AddAsync(new AbandonedPrompt(worker, "p-2", "run-2", GiveUpAt.AddSeconds(1)), CancellationToken.None);
            await store.RemoveAsync(["p-1"], CancellationToken.None);
        }

        await using var reopened = await Database.OpenAsync();
        var left = await reopened.AbandonedPrompts.ListAsync(CancellationToken.None);

        Assert.Equal([new AbandonedPrompt(worker, "p-2", "run-2", GiveUpAt.AddSeconds(1))], left);
    }

    [Fact]
    public async Task ListAsync_SeveralPrompts_SoonestGiveUpFirst()
    {
        await using var session = await Database.OpenAsync();
        var store = session.AbandonedPrompts;
        await store.AddAsync(new AbandonedPrompt(new Uri("http://gpu2:8188/"), "late", "run-1", GiveUpAt.AddMinutes(5)), CancellationToken.None);
        await store.AddAsync(new AbandonedPrompt(new Uri("http://gpu1:8188/"), "soon", "run-2", GiveUpAt), CancellationToken.None);
        await store.RemoveAsync(["not-stored"], CancellationToken.None);

        Assert.Equal(["soon", "late"], (await store.ListAsync(CancellationToken.None)).Select(p => p.PromptId));
    }
}
