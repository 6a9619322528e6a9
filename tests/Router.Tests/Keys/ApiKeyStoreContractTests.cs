using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Keys;

/// <summary>What every <see cref="IApiKeyStore"/> must do; one subclass per implementation (SQLite, PostgreSQL).</summary>
public abstract class ApiKeyStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task CreateAsync_TakenIdOrHash_Refused()
    {
        await using var session = await Database.OpenAsync();
        var key = new StoredApiKey("key-00000001", "ci", new string('a', 64), false, Now, null);

        Assert.True(await session.ApiKeys.CreateAsync(key, CancellationToken.None));
        Assert.False(await session.ApiKeys.CreateAsync(key with { Hash = new string('b', 64) }, CancellationToken.None));
        Assert.False(await session.ApiKeys.CreateAsync(key with { Id = "key-00000002" }, CancellationToken.None));

        Assert.Equal([key], await session.ApiKeys.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Reopen_AfterRevoke_FindsByHashWithRevocationTime()
    {
        var ci = new StoredApiKey("key-00000001", "ci", new string('a', 64), false, Now, null);
        var admin = new StoredApiKey("key-00000002", "ops", new string('b', 64), true, Now.AddSeconds(1), null);
        await using (var session = await Database.OpenAsync())
        {
            await session.ApiKeys.CreateAsync(admin, CancellationToken.None);
            await session.ApiKeys.CreateAsync(ci, CancellationToken.None);
            Assert.True(await session.ApiKeys.RevokeAsync("key-00000001", Now.AddMinutes(1), CancellationToken.None));
            Assert.False(await session.ApiKeys.RevokeAsync("key-00000001", Now.AddMinutes(2), CancellationToken.None));
            Assert.False(await session.ApiKeys.RevokeAsync("key-unknown", Now, CancellationToken.None));
        }

        await using var reopened = await Database.OpenAsync();

        Assert.Equal(ci with { RevokedAt = Now.AddMinutes(1) }, await reopened.ApiKeys.FindByHashAsync(new string('a', 64), CancellationToken.None));
        Assert.Equal(admin, await reopened.ApiKeys.FindByHashAsync(new string('b', 64), CancellationToken.None));
        Assert.Null(await reopened.ApiKeys.FindByHashAsync(new string('c', 64), CancellationToken.None));
        Assert.Equal(["key-00000001", "key-00000002"], (await reopened.ApiKeys.ListAsync(CancellationToken.None)).Select(k => k.Id));
    }
}
