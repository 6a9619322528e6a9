using System.Text;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.UserData;

namespace ComfyOperator.Router.Tests.UserData;

/// <summary>What every <see cref="IUserFileStore"/> must do; one subclass per implementation (SQLite, PostgreSQL).</summary>
public abstract class UserFileStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Put_ThenReopen_FileKeptPerOwnerWithContentAndTime()
    {
        await using (var session = await Database.OpenAsync())
        {
            Assert.True(await session.UserFiles.PutAsync("key-a", "workflows/one.json", Bytes("{\"a\":1}"), Now, overwrite: true, CancellationToken.None));
            Assert.True(await session.UserFiles.PutAsync("key-b", "workflows/one.json", Bytes("{\"b\":2}"), Now.AddSeconds(1), overwrite: true, CancellationToken.None));
        }

        await using var reopened = await Database.OpenAsync();
        var a = await reopened.UserFiles.GetAsync("key-a", "workflows/one.json", CancellationToken.None);
        var b = await reopened.UserFiles.GetAsync("key-b", "workflows/one.json", CancellationToken.None);

        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(a!.Content));
        Assert.Equal(Now, a.Modified);
        Assert.Equal("{\"b\":2}", Encoding.UTF8.GetString(b!.Content));
        Assert.Null(await reopened.UserFiles.GetAsync("key-c", "workflows/one.json", CancellationToken.None));
    }

    [Fact]
    public async Task Put_ExistingWithoutOverwrite_RefusedAndUnchanged()
    {
        await using var session = await Database.OpenAsync();
        await session.UserFiles.PutAsync("key-a", "x.json", Bytes("first"), Now, overwrite: true, CancellationToken.None);

        Assert.False(await session.UserFiles.PutAsync("key-a", "x.json", Bytes("second"), Now.AddSeconds(1), overwrite: false, CancellationToken.None));
        Assert.Equal("first", Encoding.UTF8.GetString((await session.UserFiles.GetAsync("key-a", "x.json", CancellationToken.None))!.Content));
        Assert.True(await session.UserFiles.PutAsync("key-a", "x.json", Bytes("third"), Now.AddSeconds(2), overwrite: true, CancellationToken.None));
        Assert.Equal("third", Encoding.UTF8.GetString((await session.UserFiles.GetAsync("key-a", "x.json", CancellationToken.None))!.Content));
    }

    [Fact]
    public async Task List_Prefix_OnlyThatOwnersFilesBelowItByPath()
    {
        await using var session = await Database.OpenAsync();
        foreach (var path in (string[])["workflows/b.json", "workflows/a.json", "workflows/sub/c.json", "workflows_old/d.json", "comfy.settings.json"])
        {
            await session.UserFiles.PutAsync("key-a", path, Bytes(path), Now, overwrite: true, CancellationToken.None);
        }

        await session.UserFiles.PutAsync("key-b", "workflows/other.json", Bytes("x"), Now, overwrite: true, CancellationToken.None);

        var listed = await session.UserFiles.ListAsync("key-a", "workflows/", CancellationToken.None);

        Assert.Equal(["workflows/a.json", "workflows/b.json", "workflows/sub/c.json"], listed.Select(f => f.Path));
        Assert.Equal("workflows/a.json".Length, listed[0].Size);
        Assert.Equal(5, (await session.UserFiles.ListAsync("key-a", "", CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Move_TargetExists_OnlyWithOverwrite()
    {
        await using var session = await Database.OpenAsync();
        await session.UserFiles.PutAsync("key-a", "a.json", Bytes("A"), Now, overwrite: true, CancellationToken.None);
        await session.UserFiles.PutAsync("key-a", "b.json", Bytes("B"), Now, overwrite: true, CancellationToken.None);

        Assert.False(await session.UserFiles.MoveAsync("key-a", "a.json", "b.json", overwrite: false, Now.AddSeconds(1), CancellationToken.None));
        Assert.Equal(["a.json", "b.json"], (await session.UserFiles.ListAsync("key-a", "", CancellationToken.None)).Select(f => f.Path));
        Assert.True(await session.UserFiles.MoveAsync("key-a", "a.json", "b.json", overwrite: true, Now.AddSeconds(2), CancellationToken.None));

        var left = await session.UserFiles.ListAsync("key-a", "", CancellationToken.None);
        Assert.Equal(["b.json"], left.Select(f => f.Path));
        Assert.Equal("A", Encoding.UTF8.GetString((await session.UserFiles.GetAsync("key-a", "b.json", CancellationToken.None))!.Content));
        Assert.Equal(Now.AddSeconds(2), left[0].Modified);
    }

    [Fact]
    public async Task MoveAndDelete_Missing_ReturnFalse()
    {
        await using var session = await Database.OpenAsync();
        await session.UserFiles.PutAsync("key-b", "a.json", Bytes("A"), Now, overwrite: true, CancellationToken.None);

        Assert.False(await session.UserFiles.MoveAsync("key-a", "a.json", "c.json", overwrite: true, Now, CancellationToken.None));
        Assert.False(await session.UserFiles.DeleteAsync("key-a", "a.json", CancellationToken.None));
        Assert.True(await session.UserFiles.DeleteAsync("key-b", "a.json", CancellationToken.None));
        Assert.Empty(await session.UserFiles.ListAsync("key-b", "", CancellationToken.None));
    }
}
