using System.Diagnostics;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

public sealed class FaultTests
{
    [Fact]
    public async Task FailNext_429_RetryAfterThenRecovers()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        emu.Faults.RetryAfterSeconds = 2;
        emu.Faults.FailNext(2, 429);
        var first = await api.GetAsync("/api/v1/namespaces");
        var second = await api.GetAsync("/api/v1/namespaces");
        var third = await api.GetAsync("/api/v1/namespaces");
        Assert.Equal((429, 429, 200), (first.Code, second.Code, third.Code));
        Assert.Equal("2", first.Header("Retry-After"));
        Assert.Equal("TooManyRequests", first.Reason);
        Assert.Equal(2, first.Json!["details"]!["retryAfterSeconds"]!.GetValue<int>());
    }

    [Fact]
    public async Task FailNext_500_InternalErrorStatus()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        emu.Faults.FailNext(1, 500);
        var r = await api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"x"}}""");
        Assert.Equal(500, r.Code);
        Assert.Equal("InternalError", r.Reason);
        Assert.Equal(404, (await api.GetAsync("/api/v1/namespaces/default/configmaps/x")).Code);
    }

    [Fact]
    public async Task Latency_Set_DelaysResponses()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        emu.Faults.Latency = TimeSpan.FromMilliseconds(300);
        var sw = Stopwatch.StartNew();
        Assert.Equal(200, (await api.GetAsync("/version")).Code);
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(250), sw.Elapsed.ToString());
    }

    [Fact]
    public async Task RequiredBearerToken_WrongToken_Unauthorized()
    {
        await using var emu = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { RequiredBearerToken = "s3cret" });
        using var anonymous = new ApiClient(emu.BaseAddress);
        using var wrong = new ApiClient(emu.BaseAddress, "nope");
        using var right = new ApiClient(emu.BaseAddress, "s3cret");
        Assert.Equal(401, (await anonymous.GetAsync("/api/v1/namespaces")).Code);
        var r = await wrong.GetAsync("/api/v1/namespaces");
        Assert.Equal(401, r.Code);
        Assert.Equal("Unauthorized", r.Reason);
        Assert.Equal(200, (await right.GetAsync("/api/v1/namespaces")).Code);
    }

    [Fact]
    public async Task WriteKubeconfig_WithToken_TokenWrittenAndKubectlSeesUnauthorized()
    {
        await using var emu = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { RequiredBearerToken = "t0ken" });
        var dir = Path.Combine(Path.GetTempPath(), "kube-emulator-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = emu.WriteKubeconfig(Path.Combine(dir, "config"), "t0ken");
            var text = await File.ReadAllTextAsync(path);
            Assert.Contains($"server: {emu.BaseAddress.ToString().TrimEnd('/')}", text);
            Assert.Contains("token: t0ken", text);
            // kubectl does not send a bearer token to a plain-http server, so it meets the 401 path.
            using var kubectl = new Kubectl(path);
            var r = await kubectl.RunAsync("get namespaces -o name");
            Assert.False(r.Succeeded);
            Assert.Contains("the server has asked for the client to provide credentials", r.StdErr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
