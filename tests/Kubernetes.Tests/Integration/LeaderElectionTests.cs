using ComfyOperator.Kubernetes.LeaderElection;
using ComfyOperator.Kubernetes.Tests.Support;
using k8s;
using k8s.Models;
using OfficialConfiguration = k8s.KubernetesClientConfiguration;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class LeaderElectionTests
{
    private static k8s.Kubernetes Official(EmulatorContext ctx, DelegatingHandler? handler = null) =>
        handler is null
            ? new k8s.Kubernetes(new OfficialConfiguration { Host = ctx.Emulator.BaseAddress.ToString() })
            : new k8s.Kubernetes(new OfficialConfiguration { Host = ctx.Emulator.BaseAddress.ToString() }, handler);

    private static Task<V1Lease> ReadLeaseAsync(IKubernetes client) =>
        client.CoordinationV1.ReadNamespacedLeaseAsync("comfy-operator-leader", "default");

    private static LeaderElectionConfig Config(string identity, bool release = true, TimeSpan? leaseDuration = null) => new()
    {
        LockNamespace = "default",
        LockName = "comfy-operator-leader",
        Identity = identity,
        LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(3),
        RenewDeadline = TimeSpan.FromSeconds(2),
        RetryPeriod = TimeSpan.FromMilliseconds(400),
        ReleaseOnCancel = release,
    };

    /// <summary>Counts leaders at any instant and remembers the most seen at once.</summary>
    private sealed class LeadershipLog
    {
        private readonly Lock _gate = new();
        private int _current;

        public int MaxConcurrent { get; private set; }

        public List<string> Started { get; } = [];

        public List<string> Stopped { get; } = [];

        public void Attach(LeaseElection elector, string identity)
        {
            elector.OnStartedLeading = token =>
            {
                lock (_gate)
                {
                    _current++;
                    MaxConcurrent = Math.Max(MaxConcurrent, _current);
                    Started.Add(identity);
                }

                return Task.Delay(Timeout.Infinite, token).ContinueWith(_ => { }, TaskScheduler.Default);
            };
            elector.OnStoppedLeading = () =>
            {
                lock (_gate)
                {
                    _current--;
                    Stopped.Add(identity);
                }
            };
        }
    }

    [Fact]
    public async Task TwoCandidates_LeaderReleases_OtherTakesOverWithNoOverlap()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var log = new LeadershipLog();
        using var clientA = Official(ctx);
        using var clientB = Official(ctx);
        var a = new LeaseElection(clientA, Config("a"));
        var b = new LeaseElection(clientB, Config("b"));
        var newLeaders = new List<string>();
        b.OnNewLeader = newLeaders.Add;
        log.Attach(a, "a");
        log.Attach(b, "b");
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();

        var runA = a.RunAsync(stopA.Token);
        await Eventually.TrueAsync(() => a.IsLeader, "a leads");
        var runB = b.RunAsync(stopB.Token);
        await Eventually.TrueAsync(() => b.CurrentLeader == "a", "b observes a");
        Assert.False(b.IsLeader);

        await stopA.CancelAsync();
        await runA;
        await Eventually.TrueAsync(() => b.IsLeader, "b takes over after a releases", TimeSpan.FromSeconds(10));
        var lease = await ReadLeaseAsync(clientB);
        await stopB.CancelAsync();
        await runB;

        Assert.Equal(1, log.MaxConcurrent);
        Assert.Equal(["a", "b"], log.Started);
        Assert.Equal(["a", "b"], log.Stopped);
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
        Assert.Equal(3, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(["a", "b"], newLeaders);
        var released = await ReadLeaseAsync(clientB);
        Assert.True(string.IsNullOrEmpty(released.Spec.HolderIdentity));
    }

    [Fact]
    public async Task Leader_PartitionedPastRenewDeadline_StepsDownBeforeOtherTakesOver()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var log = new LeadershipLog();
        var partition = new PartitionHandler();
        using var clientA = Official(ctx, partition);
        using var clientB = Official(ctx);
        // 4 s between a's renew deadline and the end of its lease: the no-overlap check must not hang on
        // a's step-down being scheduled within a second on a loaded machine.
        var a = new LeaseElection(clientA, Config("a", release: false, leaseDuration: TimeSpan.FromSeconds(6)));
        var b = new LeaseElection(clientB, Config("b", release: false, leaseDuration: TimeSpan.FromSeconds(6)));
        log.Attach(a, "a");
        log.Attach(b, "b");
        using var stop = new CancellationTokenSource();
        DateTimeOffset? aStopped = null;
        var stoppedBase = a.OnStoppedLeading;
        a.OnStoppedLeading = () =>
        {
            aStopped = DateTimeOffset.UtcNow;
            stoppedBase!();
        };

        var runA = a.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => a.IsLeader, "a leads");
        var runB = b.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => b.CurrentLeader == "a", "b observes a");

        partition.Partitioned = true;
        await runA.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => b.IsLeader, "b takes over once a's lease expires", TimeSpan.FromSeconds(25));
        await stop.CancelAsync();
        await runB;

        Assert.False(a.IsLeader);
        Assert.NotNull(aStopped);
        Assert.Equal(1, log.MaxConcurrent);
        Assert.Equal(["a", "b"], log.Started);
    }

    [Fact]
    public async Task LeaderStopsCleanly_OtherTakesOverBeforeTheLeaseWouldExpire()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var clientA = Official(ctx);
        using var clientB = Official(ctx);
        // A 30 s lease: a candidate that had to wait for it to expire would fail the 10 s deadline below.
        var a = new LeaseElection(clientA, Config("a", leaseDuration: TimeSpan.FromSeconds(30)));
        var b = new LeaseElection(clientB, Config("b", leaseDuration: TimeSpan.FromSeconds(30)));
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var runA = a.RunAsync(stopA.Token);
        await Eventually.TrueAsync(() => a.IsLeader, "a leads");
        var runB = b.RunAsync(stopB.Token);
        await Eventually.TrueAsync(() => b.CurrentLeader == "a", "b observes a");

        await stopA.CancelAsync();
        await runA;
        await Eventually.TrueAsync(() => b.IsLeader, "b takes over within seconds of a's release", TimeSpan.FromSeconds(10));
        await stopB.CancelAsync();
        await runB;
    }

    [Fact]
    public async Task Candidate_LeaseHeldByLiveLeader_DoesNotAcquire()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var clientA = Official(ctx);
        using var clientB = Official(ctx);
        var a = new LeaseElection(clientA, Config("a"));
        var b = new LeaseElection(clientB, Config("b"));
        using var stop = new CancellationTokenSource();
        var runA = a.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => a.IsLeader, "a leads");
        var runB = b.RunAsync(stop.Token);

        // Across several renewals by a, longer than the 3 s lease, b never gets in.
        for (var i = 0; i < 10; i++)
        {
            var seen = (await ReadLeaseAsync(clientA)).Spec.RenewTime;
            await Eventually.TrueAsync(async () => (await ReadLeaseAsync(clientA)).Spec.RenewTime != seen, "a renews");
            Assert.False(b.IsLeader);
            Assert.True(a.IsLeader);
        }

        Assert.Equal("a", b.CurrentLeader);
        await stop.CancelAsync();
        await Task.WhenAll(runA, runB);
    }

    [Fact]
    public void Validate_BadTimings_Throw()
    {
        Assert.Throws<ArgumentException>(() => (Config("a") with { RenewDeadline = TimeSpan.FromSeconds(3) }).Validate());
        Assert.Throws<ArgumentException>(() => (Config("a") with { RetryPeriod = TimeSpan.FromSeconds(2) }).Validate());
        Config("a").Validate();
        new LeaderElectionConfig { LockNamespace = "n", LockName = "l", Identity = "i" }.Validate();
    }
}
