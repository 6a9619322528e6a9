using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Nodes;

/// <summary>What every <see cref="INodeStore"/> must do; one subclass per implementation (SQLite, PostgreSQL).</summary>
public abstract class NodeStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static StoredNode Node(string url, int? maxQueue = null, DateTimeOffset? at = null) =>
        new(new Uri(url), new Dictionary<string, string> { ["gpu"] = "4090" }, maxQueue, false, false, at ?? Now);

    [Fact]
    public async Task AddAsync_SameUrlTwice_StoredOnceAndSecondRefused()
    {
        await using var session = await Database.OpenAsync();

        Assert.True(await session.Nodes.AddAsync(Node("http://gpu-1:8188/", 2), CancellationToken.None));
        Assert.False(await session.Nodes.AddAsync(Node("http://gpu-1:8188/", 5), CancellationToken.None));

        Assert.Equal([Node("http://gpu-1:8188/", 2)], await session.Nodes.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Reopen_AfterAddUpdateRemove_KeepsRemainingNodesWithFlagsOldestFirst()
    {
        await using (var session = await Database.OpenAsync())
        {
            await session.Nodes.AddAsync(Node("http://gpu-2:8188/", at: Now.AddSeconds(1)), CancellationToken.None);
            await session.Nodes.AddAsync(Node("http://gpu-1:8188/", 3), CancellationToken.None);
            await session.Nodes.AddAsync(Node("http://gpu-3:8188/", at: Now.AddSeconds(2)), CancellationToken.None);
            Assert.True(await session.Nodes.UpdateAsync(Node("http://gpu-2:8188/") with { Cordoned = true, Draining = true }, CancellationToken.None));
            Assert.True(await session.Nodes.RemoveAsync(new Uri("http://gpu-3:8188/"), CancellationToken.None));
        }

        await using var reopened = await Database.OpenAsync();

        Assert.Equal(
            [Node("http://gpu-1:8188/", 3), Node("http://gpu-2:8188/", at: Now.AddSeconds(1)) with { Cordoned = true, Draining = true }],
            await reopened.Nodes.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task UpdateAndRemove_UnknownUrl_ReturnFalse()
    {
        await using var session = await Database.OpenAsync();

        Assert.False(await session.Nodes.UpdateAsync(Node("http://nowhere:8188/") with { Cordoned = true }, CancellationToken.None));
        Assert.False(await session.Nodes.RemoveAsync(new Uri("http://nowhere:8188/"), CancellationToken.None));
        Assert.Empty(await session.Nodes.ListAsync(CancellationToken.None));
    }
}
