using ComfyOperator.Entities;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.EndToEnd.Tests.Operator;

/// <summary>
/// The "Try it without a cluster" flow of docs/operator.md with the real binaries as separate
/// processes: <c>kube-api</c>, <c>comfy-operator run</c> (JSON logs), <c>kubelet</c>, then
/// <c>kubectl apply -f config/samples/</c> until the managed node is Idle.
/// </summary>
public sealed class NewcomerFlowEndToEndTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("comfy-newcomer-").FullName;
    private readonly List<DotnetProcess> _processes = [];

    [Fact]
    public async Task ReadmeFlow_EmulatorOperatorKubeletSamples_ManagedNodeIdle_JsonLogsWithResourceScope()
    {
        var kubeconfig = Path.Combine(_dir, "kc");
        var apiPort = OperatorEnvironment.FreePort();
        var emulator = Start("ComfyOperator.Testing.dll", ["kube-api", "--port", apiPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--kubeconfig", kubeconfig]);
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(emulator.Output), o => o.Contains("listening on", StringComparison.Ordinal), Timeout, "the emulator to listen");
        using var kubectl = new Kubectl(kubeconfig);
        var crds = await kubectl.RunAsync(["apply", "-f", Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "crds")]);
        Assert.True(crds.Succeeded, crds.ToString());

        var metricsPort = OperatorEnvironment.FreePort();
        var op = Start(
            "comfy-operator.dll",
            ["run", "--kubeconfig", kubeconfig, "--leader-election=false", "--probe-period", "1", "--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["Logging__Format"] = "json" });
        var kubelet = Start("ComfyOperator.Testing.dll", ["kubelet", "--kubeconfig", kubeconfig, "--address-block", "77"]);
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(kubelet.Output), o => o.Contains("watching pods", StringComparison.Ordinal), Timeout, "the kubelet simulator to start");

        var samples = await kubectl.RunAsync(["apply", "-f", Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "samples")]);
        Assert.True(samples.Succeeded, samples.ToString());

        await OperatorEnvironment.WaitForAsync(
            async () => (await kubectl.RunAsync(["get", "cn", "gpu-worker-1", "-o", "jsonpath={.status.phase}"])).StdOut,
            p => p == ComfyNodePhase.Idle,
            Timeout,
            $"gpu-worker-1 Idle (operator output:\n{op.Output}\nkubelet output:\n{kubelet.Output})");
        var table = (await kubectl.RunAsync(["get", "cn"])).StdOut;
        Assert.Matches(@"gpu-worker-1 +Idle +http://127\.0\.77\.\d+:8188", table);

        // JSON logs: one object per line, with the reconcile's resource scope.
        var line = op.Output.Split('\n').FirstOrDefault(l => l.Contains("created pod", StringComparison.Ordinal));
        Assert.True(line is not null, op.Output);
        using var json = System.Text.Json.JsonDocument.Parse(line);
        var scopes = json.RootElement.GetProperty("Scopes").EnumerateArray().ToList();
        Assert.Contains(scopes, s => s.ValueKind == System.Text.Json.JsonValueKind.Object && s.TryGetProperty("resource.kind", out var kind) && kind.GetString() == "ComfyNode");

        using var http = new HttpClient();
        var metrics = await OperatorEnvironment.WaitForAsync(
            () => http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics")),
            t => t.Contains("comfy_operator_nodes{phase=\"Idle\"}", StringComparison.Ordinal),
            Timeout,
            "Idle nodes in the operator's /metrics");
        Assert.Contains("comfy_operator_leader 1", metrics, StringComparison.Ordinal);

        // A pod's stop: SIGTERM ends the operator well inside Kubernetes' 30 s grace period, its
        // separate metrics listener included (that listener once swallowed the signal).
        Assert.True(await op.TerminateAsync(TimeSpan.FromSeconds(20)), $"the operator did not exit on SIGTERM:\n{op.Output}");
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private DotnetProcess Start(string dll, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = DotnetProcess.Start(dll, args, environment);
        _processes.Add(process);
        return process;
    }
}
