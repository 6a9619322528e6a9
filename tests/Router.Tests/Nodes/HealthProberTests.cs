using System.Net;
using System.Text;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Testing.Time;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Nodes;

/// <summary>Active health: how often a worker is asked for <c>/system_stats</c>.</summary>
public sealed class HealthProberTests
{
    private readonly WorkerRegistry _registry = new(new FixedSource([new NodeEndpoint(new Uri("http://a:8188/"), "test")]), NullLogger<WorkerRegistry>.Instance);
    private readonly StatsHandler _stats = new();
    private bool _connected = true;

    private HealthProber Prober(TimeProvider? time = null) => new(
        _registry,
        new Http(_stats),
        Options.Create(new RouterOptions { ProbeInterval = TimeSpan.FromMinutes(1) }),
        time ?? TimeProvider.System,
        NullLogger<HealthProber>.Instance,
        _ => _connected);

    private WorkerState Worker => _registry.Workers.Single();

    [Fact]
    public async Task Probe_ConnectedWorkerAnswersTheSame_AskedLessOftenUntilTheAnswerChanges()
    {
        var prober = Prober();
        await prober.ProbeAsync(Worker, CancellationToken.None);

        // Just probed, but a worker seen once is asked every interval until its answer repeats.
        Assert.True(prober.IsDue(Worker));
        await prober.ProbeAsync(Worker, CancellationToken.None);
        Assert.False(prober.IsDue(Worker));

        // A closed socket says nothing about the worker: probed every interval again.
        _connected = false;
        Assert.True(prober.IsDue(Worker));
        _connected = true;

        _stats.Version = "0.4.0";
        await prober.ProbeAsync(Worker, CancellationToken.None);
        Assert.Equal("0.4.0", Worker.ComfyVersion);
        Assert.True(prober.IsDue(Worker));
    }

    [Fact]
    public async Task Probe_ConnectedWorkerAnswersTheSame_ProbedEvery32ndIntervalAtMost()
    {
        // While its socket is open the keep-alive is its health: the probe only refreshes version and devices.
        var time = new ManualTimeProvider();
        var prober = Prober(time);
        var probes = new List<int>();
        for (var interval = 0; interval < 200; interval++)
        {
            if (prober.IsDue(Worker))
            {
                await prober.ProbeAsync(Worker, CancellationToken.None);
                probes.Add(interval);
            }

            time.Advance(TimeSpan.FromMinutes(1));
        }

        // Probed at 0 and 1, then ever further apart: from a spacing of 4 intervals on, a little sooner
        // by an amount drawn at each probe (under half the spacing), so the gaps grow to between 17 and 32.
        Assert.Equal([0, 1, 3], probes.Take(3));
        var gaps = probes.Zip(probes.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, gap => Assert.InRange(gap, 1, 32));
        Assert.All(gaps.Skip(5), gap => Assert.InRange(gap, 17, 32));
        Assert.InRange(probes.Count, 11, 17);
        Assert.Equal(HealthState.Healthy, Worker.ActiveHealth);
    }

    [Fact]
    public async Task Probe_FleetConnectedTogether_ProbedInDifferentRounds()
    {
        // Workers that connected together do not stay in step: their probes spread over the rounds.
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(
            new FixedSource([.. Enumerable.Range(0, 200).Select(i => new NodeEndpoint(new Uri($"http://gpu-{i}:8188/"), "test"))]),
            NullLogger<WorkerRegistry>.Instance);
        var prober = new HealthProber(registry, new Http(_stats), Options.Create(new RouterOptions { ProbeInterval = TimeSpan.FromMinutes(1) }), time, NullLogger<HealthProber>.Instance, _ => true);
        var largestRound = 0;
        for (var interval = 0; interval < 200; interval++)
        {
            var due = registry.Workers.Where(prober.IsDue).ToList();
            foreach (var worker in due)
            {
                await prober.ProbeAsync(worker, CancellationToken.None);
            }

            if (interval >= 64)
            {
                largestRound = Math.Max(largestRound, due.Count);
            }

            time.Advance(TimeSpan.FromMinutes(1));
        }

        // In step, all 200 would be probed in one round every 32 intervals; spread, a round holds about 20 (at most 40 here).
        Assert.InRange(largestRound, 1, 40);
    }

    [Fact]
    public async Task Probe_Failure_ProbedEveryIntervalAgain()
    {
        var prober = Prober();
        await prober.ProbeAsync(Worker, CancellationToken.None);
        await prober.ProbeAsync(Worker, CancellationToken.None);
        Assert.False(prober.IsDue(Worker));

        _stats.Failing = true;
        await prober.ProbeAsync(Worker, CancellationToken.None);
        Assert.True(prober.IsDue(Worker));
        Assert.Equal(1, Worker.ConsecutiveProbeFailures);
    }

    [Fact]
    public async Task Probe_WithoutConnectionState_EveryInterval()
    {
        var prober = new HealthProber(_registry, new Http(_stats), Options.Create(new RouterOptions()), TimeProvider.System, NullLogger<HealthProber>.Instance);
        for (var i = 0; i < 4; i++)
        {
            await prober.ProbeAsync(Worker, CancellationToken.None);
            Assert.True(prober.IsDue(Worker));
        }
    }

    private sealed class StatsHandler : HttpMessageHandler
    {
        public string Version { get; set; } = "0.3.0";

        public bool Failing { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Failing
                ? new HttpResponseMessage(HttpStatusCode.InternalServerError)
                : new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent(
                        $$"""{"system":{"comfyui_version":"{{Version}}"},"devices":[{"name":"cuda:0 L4","type":"cuda","vram_total":100,"vram_free":{{Random.Shared.Next(100)}}}]}""",
                        Encoding.UTF8,
                        "application/json"),
                });
    }

    private sealed class Http(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }
}
