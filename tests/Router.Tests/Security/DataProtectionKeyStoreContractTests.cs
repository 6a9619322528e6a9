using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Security;

/// <summary>What every <see cref="Router.Security.IDataProtectionKeyStore"/> must do; one subclass per implementation (SQLite, PostgreSQL).</summary>
public abstract class DataProtectionKeyStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task Add_ThenReopen_ElementsKeptInTheOrderAdded()
    {
        await using (var session = await Database.OpenAsync())
        {
            Assert.Empty(await session.DataProtectionKeys.ListAsync(CancellationToken.None));
            await session.DataProtectionKeys.AddAsync("key-b", "<key id=\"b\" />", Now, CancellationToken.None);
            await session.DataProtectionKeys.AddAsync("key-a", "<key id=\"a\" />", Now, CancellationToken.None);
            await session.DataProtectionKeys.AddAsync("revocation-b", "<revocation><key id=\"b\" /></revocation>", Now.AddSeconds(1), CancellationToken.None);
        }

        await using var reopened = await Database.OpenAsync();

        Assert.Equal(
            ["<key id=\"b\" />", "<key id=\"a\" />", "<revocation><key id=\"b\" /></revocation>"],
            await reopened.DataProtectionKeys.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Add_NameAlreadyStored_FirstElementKept()
    {
        await using var session = await Database.OpenAsync();
        await session.DataProtectionKeys.AddAsync("key-a", "<key id=\"a\" version=\"1\" />", Now, CancellationToken.None);

        await session.DataProtectionKeys.AddAsync("key-a", "<key id=\"a\" version=\"2\" />", Now.AddSeconds(1), CancellationToken.None);

        Assert.Equal(["<key id=\"a\" version=\"1\" />"], await session.DataProtectionKeys.ListAsync(CancellationToken.None));
    }
}
