using ComfyOperator.Operator.Hosting;
using ComfyOperator.Testing.Cluster;
using ComfyOperator.Testing.Kubelet;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace ComfyOperator.EndToEnd.Tests.Operator;

/// <summary>
/// The whole operator stack in one process: a <see cref="SimulatedCluster"/> (the Kubernetes API
/// emulator with our CRDs, the kubelet simulator running a ComfyUI simulator per pod on 127.0.x.y) and
/// the operator.
/// </summary>
internal sealed class OperatorEnvironment : IAsyncLifetime
{
    private static int s_block = 10;
    private readonly List<(OperatorRuntime Runtime, CancellationTokenSource Stop, Task Run, OperatorHost Host)> _operators = [];

    /// <summary>Changes the ComfyUI simulator of a pod before it starts (e.g. slow steps).</summary>
    public Action<V1Pod, ComfyOperator.Testing.ComfyUI.ComfyUiSimulatorOptions>? ConfigureComfyUi { get; init; }

    /// <summary>Watch history kept by the emulator; small values force 410 Gone on resume.</summary>
    public int WatchHistoryCapacity { get; init; } = 1000;

    public SimulatedCluster Cluster { get; private set; } = null!;

    public KubeApiEmulator Emulator => Cluster.Emulator;

    public Kubectl Kubectl => Cluster.Kubectl;

    public KubeletSimulator Kubelet => Cluster.Kubelet;

    public string KubeconfigPath => Cluster.KubeconfigPath;

    /// <summary>The official client on the same kubeconfig.</summary>
    public k8s.Kubernetes Client => Cluster.Client;

    public static string RepositoryRoot => SimulatedCluster.RepositoryRoot;

    public async Task InitializeAsync() => Cluster = await SimulatedCluster.StartAsync(new SimulatedClusterOptions
    {
        WatchHistoryCapacity = WatchHistoryCapacity,
        AddressBlock = Interlocked.Increment(ref s_block),
        InitContainerExitCode = (pod, _) => pod.Metadata.Labels?.ContainsKey("test.fail-init") == true ? 1 : 0,
        ConfigureComfyUi = ConfigureComfyUi,
    });

    /// <summary>Starts an operator in-process (short probe period, small leases) and returns it.</summary>
    public OperatorRuntime StartOperator(string identity = "op-1", bool leaderElection = false) =>
        StartOperatorHost(identity, leaderElection).Runtime;

    /// <summary>
    /// Starts an operator in-process, as <c>comfy-operator run</c> puts it together; with
    /// <paramref name="metricsPort"/> its /metrics, /healthz and /readyz listen on 127.0.0.1.
    /// </summary>
    public OperatorHost StartOperatorHost(string identity = "op-1", bool leaderElection = false, int metricsPort = 0, Func<OperatorOptions, OperatorOptions>? configure = null)
    {
        var options = new OperatorOptions
        {
            Kubeconfig = KubeconfigPath,
            Identity = identity,
            LeaderElection = leaderElection,
            // Generous against stalls of a loaded machine (a leader that misses its renew deadline steps
            // down for good); failover stays quick because a stopping leader releases the lease.
            LeaseDuration = TimeSpan.FromSeconds(15),
            RenewDeadline = TimeSpan.FromSeconds(10),
            RetryPeriod = TimeSpan.FromSeconds(1),
            ProbePeriodSeconds = 1,
            ProbeTimeoutSeconds = 1,
            ProbeFailureThreshold = 2,
            MetricsPort = metricsPort,
            Workers = 8,
        };
        options = configure?.Invoke(options) ?? options;
        Assert.Empty(options.Validate());
        var host = OperatorHost.Create(options, new OperatorHostSettings { ConsoleLogging = false, ListenHost = "127.0.0.1" });
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => host.RunAsync(stop.Token));
        _operators.Add((host.Runtime, stop, run, host));
        return host;
    }

    /// <summary>Stops an operator as SIGTERM would (cancellation) and waits for it to finish.</summary>
    public async Task StopOperatorAsync(OperatorRuntime runtime)
    {
        var entry = _operators.Single(o => o.Runtime == runtime);
        await entry.Stop.CancelAsync();
        await entry.Run.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _operators.Remove(entry);
        await entry.Host.DisposeAsync();
        entry.Stop.Dispose();
    }

    /// <summary>Runs kubectl and fails the test with its output when it fails.</summary>
    public async Task<string> KubectlOkAsync(params string[] args)
    {
        var result = await Kubectl.RunAsync(args);
        Assert.True(result.Succeeded, $"kubectl {string.Join(' ', args)}\n{result}");
        return result.StdOut;
    }

    /// <summary><c>kubectl apply</c> of manifests given as text, in <paramref name="ns"/>.</summary>
    public async Task ApplyAsync(string ns, string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"apply-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, yaml);
        try
        {
            await KubectlOkAsync("apply", "-n", ns, "-f", path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public Task<string> CreateNamespaceAsync(string prefix) => Cluster.CreateNamespaceAsync(prefix);

    /// <summary>A loopback port nothing listens on right now (for a listener the test starts next).</summary>
    public static int FreePort() => SimulatedCluster.FreePort();

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes; the failure message shows the last value.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        T last = default!;
        while (TimeProvider.System.GetTimestamp() < deadline)
        {
            last = await probe();
            if (condition(last))
            {
                return last;
            }

            // Polling interval of the condition check, not a wait for time to pass.
            await Task.Delay(100);
        }

        Assert.Fail($"timed out after {timeout.TotalSeconds}s waiting for {what}; last value: {last}");
        return last;
    }

    public Task<string> JsonPathAsync(string ns, string resource, string jsonPath) =>
        Kubectl.RunAsync(["get", resource, "-n", ns, "-o", $"jsonpath={jsonPath}"]).ContinueWith(t => t.Result.Succeeded ? t.Result.StdOut : "<error> " + t.Result.StdErr, TaskScheduler.Default);

    private bool _disposed;

    public async Task DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var op in _operators.ToList())
        {
            await StopOperatorAsync(op.Runtime);
        }

        await Cluster.DisposeAsync();
    }
}
