using ComfyOperator.Entities;

namespace ComfyOperator.EndToEnd.Tests.Operator;

public sealed class OperatorResilienceEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(40);
    private readonly OperatorEnvironment _env = new();

    public Task InitializeAsync() => _env.InitializeAsync();

    public Task DisposeAsync() => _env.DisposeAsync();

    private Task ApplyNodesAsync(string ns, int count)
    {
        var yaml = string.Join("---\n", Enumerable.Range(0, count).Select(i => $"apiVersion: comfyoperator.io/v1alpha1\nkind: ComfyNode\nmetadata:\n  name: n{i}\nspec:\n  image: comfyui:test\n"));
        var path = Path.Combine(Path.GetTempPath(), $"nodes-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return _env.KubectlOkAsync("apply", "-n", ns, "-f", path);
    }

    private Task<string> Phases(string ns) => _env.JsonPathAsync(ns, "cn", "{.items[*].status.phase}");

    private static bool AllIdle(string phases, int count)
    {
        var list = phases.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return list.Length == count && list.All(p => p == ComfyNodePhase.Idle);
    }

    [Fact]
    public async Task OperatorRestartedMidReconcile_NoDuplicatePods()
    {
        var ns = await _env.CreateNamespaceAsync("restart");
        var first = _env.StartOperator("op-a");
        await ApplyNodesAsync(ns, 5);
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(first.Reconciles), n => n >= 3, Timeout, "reconciles started");

        await _env.StopOperatorAsync(first);
        _env.StartOperator("op-b");

        await OperatorEnvironment.WaitForAsync(() => Phases(ns), p => AllIdle(p, 5), Timeout, "five Idle nodes");
        var pods = (await _env.JsonPathAsync(ns, "pods", "{.items[*].metadata.name}")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, pods.Length);
        Assert.Equal(5, pods.Select(p => p[..p.LastIndexOf('-')]).Distinct().Count());
    }

    [Fact]
    public async Task TwoOperators_OneLeads_OtherTakesOverWhenItStops()
    {
        var ns = await _env.CreateNamespaceAsync("leader");
        var a = _env.StartOperator("op-a", leaderElection: true);
        var b = _env.StartOperator("op-b", leaderElection: true);
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(a.IsLeader || b.IsLeader), l => l, Timeout, "a leader");
        Assert.False(a.IsLeader && b.IsLeader);
        var (leader, standby) = a.IsLeader ? (a, b) : (b, a);
        await ApplyNodesAsync(ns, 1);
        await OperatorEnvironment.WaitForAsync(() => Phases(ns), p => AllIdle(p, 1), Timeout, "n0 Idle under the first leader");
        Assert.Equal(0, standby.Reconciles);

        // A leader that stops cleanly releases the Lease: the standby takes over at its next retry
        // (RetryPeriod 1 s), well before the 15 s lease would have expired.
        var stopping = TimeProvider.System.GetTimestamp();
        await _env.StopOperatorAsync(leader);
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(standby.IsLeader), l => l, Timeout, "failover");
        var failover = TimeProvider.System.GetElapsedTime(stopping);
        Assert.True(failover < TimeSpan.FromSeconds(10), $"failover took {failover.TotalSeconds:F1} s; the lease is 15 s");
        await ApplyNodesAsync(ns, 2);

        await OperatorEnvironment.WaitForAsync(() => Phases(ns), p => AllIdle(p, 2), Timeout, "n1 Idle under the new leader");
        Assert.True(standby.Reconciles > 0);
    }

    [Fact]
    public async Task ApiErrorsAndDroppedWatches_OperatorRecovers()
    {
        var ns = await _env.CreateNamespaceAsync("faults");
        _env.StartOperator("op-a");
        await ApplyNodesAsync(ns, 2);
        await OperatorEnvironment.WaitForAsync(() => Phases(ns), p => AllIdle(p, 2), Timeout, "two Idle nodes");

        _env.Emulator.Faults.FailNext(5, 500);
        _env.Emulator.Faults.DropWatches();
        _env.Emulator.Faults.FailNext(5, 429);
        await ApplyNodesAsync(ns, 4);
        await OperatorEnvironment.WaitForAsync(() => Phases(ns), p => AllIdle(p, 4), Timeout, "four Idle nodes after faults");

        // A node deleted while watches are down must still lose its pod once they resume.
        _env.Emulator.Faults.DropWatches();
        await _env.KubectlOkAsync("delete", "cn/n3", "-n", ns);
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "pods", "{.items[*].metadata.name}"), p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 3, Timeout, "n3's pod gone");
    }

    [Fact]
    public async Task WatchHistoryExpired_OperatorRelistsAndKeepsWorking()
    {
        await _env.DisposeAsync();
        var env = new OperatorEnvironment { WatchHistoryCapacity = 5 };
        await env.InitializeAsync();
        try
        {
            var ns = await env.CreateNamespaceAsync("gone");
            env.StartOperator("op-a");
            var path = Path.Combine(Path.GetTempPath(), $"gone-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(path, string.Join("---\n", Enumerable.Range(0, 6).Select(i => $"apiVersion: comfyoperator.io/v1alpha1\nkind: ComfyNode\nmetadata:\n  name: n{i}\nspec:\n  image: comfyui:test\n")));
            env.Emulator.Faults.DropWatches();
            await env.KubectlOkAsync("apply", "-n", ns, "-f", path);
            await OperatorEnvironment.WaitForAsync(() => env.JsonPathAsync(ns, "cn", "{.items[*].status.phase}"), p => AllIdle(p, 6), Timeout, "six Idle nodes despite 410 Gone");
        }
        finally
        {
            await env.DisposeAsync();
        }
    }
}
