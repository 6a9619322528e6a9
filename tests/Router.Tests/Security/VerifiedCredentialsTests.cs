using System.Security.Claims;
using ComfyOperator.Router.Security;
using Xunit;

namespace ComfyOperator.Router.Tests.Security;

public sealed class VerifiedCredentialsTests
{
    private static readonly ClaimsPrincipal Caller = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "caller")], RouterAuthentication.Scheme));

    [Fact]
    public void Find_RememberedCredential_SameCallerOtherCredentialUnknown()
    {
        var verified = new VerifiedCredentials();
        verified.Remember(SecretComparer.Hash("Bearer one"), verified.Generation, 0, Caller);

        Assert.Same(Caller, verified.Find(SecretComparer.Hash("Bearer one"), 0));
        Assert.Null(verified.Find(SecretComparer.Hash("Bearer two"), 0));
    }

    [Fact]
    public void Find_AfterInvalidate_Unknown()
    {
        var verified = new VerifiedCredentials();
        verified.Remember(SecretComparer.Hash("Bearer one"), verified.Generation, 0, Caller);

        verified.Invalidate();

        Assert.Null(verified.Find(SecretComparer.Hash("Bearer one"), 0));
    }

    [Fact]
    public void Remember_CheckStartedBeforeAnInvalidation_NeverFound()
    {
        var verified = new VerifiedCredentials();
        var generation = verified.Generation;

        // The key is revoked while its check (which read it as good) runs.
        verified.Invalidate();
        verified.Remember(SecretComparer.Hash("Bearer one"), generation, 0, Caller);

        Assert.Null(verified.Find(SecretComparer.Hash("Bearer one"), 0));
    }

    [Fact]
    public void Find_KeysFileReadAgain_Unknown()
    {
        var verified = new VerifiedCredentials();
        verified.Remember(SecretComparer.Hash("Bearer one"), verified.Generation, 1, Caller);

        Assert.Null(verified.Find(SecretComparer.Hash("Bearer one"), 2));
    }

    [Fact]
    public void Remember_MoreCredentialsThanCapacity_StaysBounded()
    {
        var verified = new VerifiedCredentials();
        for (var i = 0; i < VerifiedCredentials.Capacity * 3; i++)
        {
            verified.Remember(SecretComparer.Hash($"Bearer key-{i}"), verified.Generation, 0, Caller);
            Assert.True(verified.Count <= VerifiedCredentials.Capacity, $"{verified.Count} entries after {i + 1} credentials");
        }

        var last = $"Bearer key-{(VerifiedCredentials.Capacity * 3) - 1}";
        Assert.Same(Caller, verified.Find(SecretComparer.Hash(last), 0));
    }
}
