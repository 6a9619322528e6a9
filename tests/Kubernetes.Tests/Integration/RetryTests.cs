using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class RetryTests
{
    [Fact]
    public async Task Read_TwoServerErrors_RetriedToSuccess()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var codes = new List<string>();
        ctx.Metrics.RequestCompleted += (_, e) => codes.Add(e.Code);
        ctx.Emulator.Faults.FailNext(2, 500);

        var ns = await ctx.Client.ReadAsync<Namespace>("default");

        Assert.Equal("default", ns.Metadata.Name);
        Assert.Equal(["500", "500", "200"], codes);
    }

    [Fact]
    public async Task Create_Throttled_RetriedAfterRetryAfter()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        ctx.Emulator.Faults.RetryAfterSeconds = 0;
        ctx.Emulator.Faults.FailNext(1, 429);

        var created = await ctx.Client.CreateNamespacedAsync(new ConfigMap { Metadata = new ObjectMeta { Name = "t" } }, "default");

        Assert.Equal("t", created.Metadata.Name);
        Assert.Equal(1, ctx.Emulator.WriteCount);
    }

    [Fact]
    public async Task Create_ServerError_NotRetriedSoNoDuplicateWrite()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        ctx.Emulator.Faults.FailNext(1, 500);

        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.CreateNamespacedAsync(new ConfigMap { Metadata = new ObjectMeta { Name = "t" } }, "default"));

        Assert.Equal(500, error.Code);
        Assert.Equal(0, ctx.Emulator.WriteCount);
    }

    [Fact]
    public async Task Read_PersistentErrors_GivesUpAfterMaxRetries()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var attempts = 0;
        ctx.Metrics.RequestCompleted += (_, _) => attempts++;
        ctx.Emulator.Faults.FailNext(10, 503);

        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.ReadAsync<Namespace>("default"));

        Assert.Equal(503, error.Code);
        Assert.Equal(4, attempts);
    }

    [Fact]
    public async Task Read_SlowServer_TimesOutPerCall()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var client = ctx.NewClient(requestTimeout: TimeSpan.FromMilliseconds(200));
        ctx.Emulator.Faults.Latency = TimeSpan.FromSeconds(5);

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadAsync<Namespace>("default"));
    }
}
