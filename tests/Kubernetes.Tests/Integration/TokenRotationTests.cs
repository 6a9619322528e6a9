using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class TokenRotationTests
{
    private static (KubernetesClient Client, List<string> Codes, string TokenPath) TokenFileClient(EmulatorContext ctx, string token)
    {
        var tokenPath = Path.Combine(ctx.Directory, "token");
        File.WriteAllText(tokenPath, token);
        var kubeconfig = Path.Combine(ctx.Directory, "token-kubeconfig");
        File.WriteAllText(kubeconfig, $"""
            current-context: e
            clusters: [{"{"}name: e, cluster: {"{"}server: "{ctx.Emulator.BaseAddress}"{"}"}{"}"}]
            users: [{"{"}name: u, user: {"{"}tokenFile: token{"}"}{"}"}]
            contexts: [{"{"}name: e, context: {"{"}cluster: e, user: u{"}"}{"}"}]
            """);
        var metrics = new KubernetesClientMetrics();
        var codes = new List<string>();
        metrics.RequestCompleted += (_, e) => codes.Add(e.Code);
        return (new KubernetesClient(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig), metrics: metrics), codes, tokenPath);
    }

    [Fact]
    public async Task TokenFile_RotatedWithSameTimestamp_401ThenRereadAndRetried()
    {
        var options = new KubeApiEmulatorOptions { RequiredBearerToken = "token-1" };
        await using var ctx = await EmulatorContext.StartAsync(options);
        var (client, codes, tokenPath) = TokenFileClient(ctx, "token-1");
        using var _ = client;
        await client.ReadAsync<Namespace>("default");
        var stamp = File.GetLastWriteTimeUtc(tokenPath);

        // The kubelet rotates the projected token; our cached copy is now stale and the server rejects it.
        options.RequiredBearerToken = "token-2";
        File.WriteAllText(tokenPath, "token-2");
        File.SetLastWriteTimeUtc(tokenPath, stamp);
        var ns = await client.ReadAsync<Namespace>("default");

        Assert.Equal("default", ns.Metadata.Name);
        Assert.Equal(["200", "401", "200"], codes);
    }

    [Fact]
    public async Task TokenFile_RotatedWithNewTimestamp_PickedUpBeforeAny401()
    {
        var options = new KubeApiEmulatorOptions { RequiredBearerToken = "token-1" };
        await using var ctx = await EmulatorContext.StartAsync(options);
        var (client, codes, tokenPath) = TokenFileClient(ctx, "token-1");
        using var _ = client;
        await client.ReadAsync<Namespace>("default");

        options.RequiredBearerToken = "token-2";
        File.WriteAllText(tokenPath, "token-2");
        File.SetLastWriteTimeUtc(tokenPath, File.GetLastWriteTimeUtc(tokenPath).AddSeconds(10));
        await client.ReadAsync<Namespace>("default");

        Assert.Equal(["200", "200"], codes);
    }

    [Fact]
    public async Task WrongToken_401_SurfacesUnauthorizedAfterOneRetry()
    {
        var options = new KubeApiEmulatorOptions { RequiredBearerToken = "right" };
        await using var ctx = await EmulatorContext.StartAsync(options);
        var (client, codes, _) = TokenFileClient(ctx, "wrong");
        using var __ = client;

        var error = await Assert.ThrowsAsync<KubernetesException>(() => client.ReadAsync<Namespace>("default"));

        Assert.True(error.IsUnauthorized);
        Assert.Equal(["401", "401"], codes);
    }
}
