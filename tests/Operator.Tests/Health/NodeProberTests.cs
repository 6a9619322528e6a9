using System.Net;
using System.Net.Sockets;
using ComfyOperator.Operator.Health;
using ComfyOperator.Operator.Tests.Metrics;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Operator.Tests.Health;

public sealed class NodeProberTests
{
    [Fact]
    public async Task ProbeAsync_Simulator_VersionDevicesAndQueue_LatencyRecorded()
    {
        var scoped = new ScopedOperatorMetrics();
        using var http = new HttpClient();
        await using var comfy = await ComfyUiSimulator.StartAsync(new() { Host = "127.0.0.1" });
        var prober = new NodeProber(http, scoped.Metrics, TimeProvider.System);

        var result = await prober.ProbeAsync(comfy.BaseAddress.ToString(), TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        Assert.False(string.IsNullOrEmpty(result.ComfyVersion));
        Assert.NotEmpty(result.Devices);
        Assert.Equal(0, result.QueueRemaining);
        Assert.Contains("comfy_operator_probe_duration_seconds_count 1\n", await scoped.ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbeAsync_NothingListening_ConnectionFailureCounted()
    {
        var scoped = new ScopedOperatorMetrics();
        using var http = new HttpClient();
        var prober = new NodeProber(http, scoped.Metrics, TimeProvider.System);

        var result = await prober.ProbeAsync($"http://127.0.0.1:{ClosedPort()}", TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("comfy_operator_probe_failures_total{reason=\"connection\"} 1\n", await scoped.ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbeAsync_SimulatorHangs_TimeoutWithinTheDeadline()
    {
        var scoped = new ScopedOperatorMetrics();
        using var http = new HttpClient();
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var prober = new NodeProber(http, scoped.Metrics, TimeProvider.System);

        var result = await prober.ProbeAsync($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("no answer within 0.3s", result.Error, StringComparison.Ordinal);
        Assert.Contains("comfy_operator_probe_failures_total{reason=\"timeout\"} 1\n", await scoped.ScrapeAsync(), StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
