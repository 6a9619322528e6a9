using ComfyOperator.Entities;

namespace ComfyOperator.EndToEnd.Tests.Operator;

public sealed class ComfyNodeEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly OperatorEnvironment _env = new();
    private ComfyOperator.Operator.Hosting.OperatorRuntime _operator = null!;

    public async Task InitializeAsync()
    {
        await _env.InitializeAsync();
        _operator = _env.StartOperator();
    }

    public Task DisposeAsync() => _env.DisposeAsync();

    private Task<string> Phase(string ns, string node) => _env.JsonPathAsync(ns, $"cn/{node}", "{.status.phase}");

    [Fact]
    public async Task KubectlApply_ManagedSample_GetShowsIdleWithEndpoint()
    {
        var ns = await _env.CreateNamespaceAsync("apply");
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "samples", "comfynode-managed.yaml"));

        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "gpu-worker-1"), p => p == ComfyNodePhase.Idle, Timeout, "gpu-worker-1 Idle");

        var table = await _env.KubectlOkAsync("get", "cn", "-n", ns);
        var header = table.Split('\n')[0];
        Assert.Matches("NAME +PHASE +ENDPOINT +QUEUE +GPU +UNSCHEDULABLE +AGE", header);
        Assert.Matches(@"gpu-worker-1 +Idle +http://127\.0\.\d+\.\d+:8188 +0 +NVIDIA", table);
        var pods = await _env.KubectlOkAsync("get", "pods", "-n", ns, "-l", $"{EntityLabels.Node}=gpu-worker-1", "-o", "name");
        Assert.Single(pods.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("ReadWriteMany", await _env.JsonPathAsync(ns, "pvc/comfy-models", "{.spec.accessModes[0]}"));
        Assert.Equal("gpu-worker-1", await _env.JsonPathAsync(ns, "svc/gpu-worker-1", "{.metadata.name}"));
        Assert.Contains("base_path: /models-cache", await _env.JsonPathAsync(ns, "configmap/gpu-worker-1-comfy", "{.data.extra_model_paths\\.yaml}"), StringComparison.Ordinal);
        Assert.Equal("True", await _env.JsonPathAsync(ns, "cn/gpu-worker-1", "{.status.conditions[?(@.type==\"Ready\")].status}"));
    }

    [Fact]
    public async Task OwnedServiceAndConfigMap_DeletedOrEditedByHand_RepairedAtOnce()
    {
        var ns = await _env.CreateNamespaceAsync("repair");
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "samples", "comfynode-managed.yaml"));
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "gpu-worker-1"), p => p == ComfyNodePhase.Idle, Timeout, "gpu-worker-1 Idle");
        var serviceUid = await _env.JsonPathAsync(ns, "svc/gpu-worker-1", "{.metadata.uid}");
        var configMap = await _env.JsonPathAsync(ns, "configmap/gpu-worker-1-comfy", "{.data.extra_model_paths\\.yaml}");
        Assert.Contains("base_path: /models-cache", configMap, StringComparison.Ordinal);

        // The periodic check is 10 minutes away: only the watch on owned objects can repair these in time.
        await _env.KubectlOkAsync("delete", "svc/gpu-worker-1", "-n", ns);
        await _env.KubectlOkAsync("patch", "configmap/gpu-worker-1-comfy", "-n", ns, "--type=merge", "-p", """{"data":{"extra_model_paths.yaml":"edited: by hand"}}""");

        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "svc/gpu-worker-1", "{.metadata.uid}"), uid => uid.Length > 0 && !uid.StartsWith("<error>", StringComparison.Ordinal) && uid != serviceUid, Timeout, "the service to be made again");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "configmap/gpu-worker-1-comfy", "{.data.extra_model_paths\\.yaml}"), data => data == configMap, Timeout, "the config map to be restored");

        await _env.KubectlOkAsync("delete", "configmap/gpu-worker-1-comfy", "-n", ns);
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "configmap/gpu-worker-1-comfy", "{.data.extra_model_paths\\.yaml}"), data => data == configMap, Timeout, "the config map to be made again");
    }

    [Fact]
    public async Task SimulatorDies_NodeGoesOfflineWithEvent_ThenRecoversWhenRevived()
    {
        var ns = await _env.CreateNamespaceAsync("offline");
        await ApplyNodeAsync(ns, "n1");
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Idle, Timeout, "n1 Idle");
        var podName = await _env.JsonPathAsync(ns, "cn/n1", "{.status.podName}");
        var simulator = _env.Kubelet.Simulator(ns, podName)!;

        simulator.Die();
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Offline, Timeout, "n1 Offline");
        var events = await _env.KubectlOkAsync("get", "events", "-n", ns, "--field-selector", "involvedObject.name=n1", "-o", "jsonpath={.items[*].reason}");
        Assert.Contains(EventReasons.NodeOffline, events, StringComparison.Ordinal);
        Assert.Equal("False", await _env.JsonPathAsync(ns, "cn/n1", "{.status.conditions[?(@.type==\"Ready\")].status}"));

        simulator.Revive();
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Idle, Timeout, "n1 Idle again");
        events = await _env.KubectlOkAsync("get", "events", "-n", ns, "--field-selector", "involvedObject.name=n1", "-o", "jsonpath={.items[*].reason}");
        Assert.Contains(EventReasons.NodeRecovered, events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SpecChange_PodIsReplaced()
    {
        var ns = await _env.CreateNamespaceAsync("replace");
        await ApplyNodeAsync(ns, "n1");
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Idle, Timeout, "n1 Idle");
        var firstPod = await _env.JsonPathAsync(ns, "cn/n1", "{.status.podName}");

        await _env.KubectlOkAsync("patch", "cn/n1", "-n", ns, "--type=merge", "-p", """{"spec":{"extraArgs":["--lowvram"]}}""");

        var secondPod = await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn/n1", "{.status.podName}"), p => p.Length > 0 && p != firstPod, Timeout, "a new pod");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "pods", "{.items[*].metadata.name}"), p => p == secondPod, Timeout, "only the new pod left");
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Idle, Timeout, "n1 Idle on the new pod");
        Assert.Contains("--lowvram", await _env.JsonPathAsync(ns, $"pod/{secondPod}", "{.spec.containers[0].args}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteNode_PodAndOwnedObjectsAreGone()
    {
        var ns = await _env.CreateNamespaceAsync("delete");
        await ApplyNodeAsync(ns, "n1", service: true);
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Idle, Timeout, "n1 Idle");

        await _env.KubectlOkAsync("delete", "cn/n1", "-n", ns);

        await OperatorEnvironment.WaitForAsync(
            async () => (await _env.JsonPathAsync(ns, "pods,services,configmaps", "{.items[*].metadata.name}")).Trim(),
            names => !names.Split(' ').Any(n => n.StartsWith("n1", StringComparison.Ordinal)),
            Timeout,
            "pods, services and config maps of n1 gone");
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(_env.Kubelet.RunningPods), n => n == 0 || _env.Kubelet.Simulators.Keys.All(k => !k.StartsWith(ns + "/", StringComparison.Ordinal)), Timeout, "simulator stopped");
    }

    [Fact]
    public async Task ExternalNode_ProbedAtItsUrl_NothingCreated()
    {
        var ns = await _env.CreateNamespaceAsync("external");
        await using var comfy = await ComfyOperator.Testing.ComfyUI.ComfyUiSimulator.StartAsync(new() { Host = "127.0.0.1" });
        var url = comfy.BaseAddress.ToString().TrimEnd('/');
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "samples", "comfynode-external.yaml"));
        await _env.KubectlOkAsync("patch", "cn/workstation", "-n", ns, "--type=merge", "-p", "{\"spec\":{\"url\":\"" + url + "\",\"probe\":{\"periodSeconds\":1}}}");

        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "workstation"), p => p == ComfyNodePhase.Idle, Timeout, "workstation Idle");

        Assert.Equal(url, await _env.JsonPathAsync(ns, "cn/workstation", "{.status.endpoint}"));
        Assert.Equal("", (await _env.JsonPathAsync(ns, "pods", "{.items[*].metadata.name}")).Trim());
    }

    [Fact]
    public async Task IdleNodes_SteadyState_NoStatusWrites()
    {
        var ns = await _env.CreateNamespaceAsync("steady");
        await ApplyNodeAsync(ns, "n1");
        await ApplyNodeAsync(ns, "n2");
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n1"), p => p == ComfyNodePhase.Idle, Timeout, "n1 Idle");
        await OperatorEnvironment.WaitForAsync(() => Phase(ns, "n2"), p => p == ComfyNodePhase.Idle, Timeout, "n2 Idle");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn/n2", "{.status.conditions[?(@.type==\"Ready\")].status}"), s => s == "True", Timeout, "n2 Ready");

        // Probes keep running once a second per node (each is a reconcile); none of them may write.
        var writesBefore = _env.Emulator.WriteCount;
        var reconcilesBefore = _operator.Reconciles;
        await OperatorEnvironment.WaitForAsync(() => Task.FromResult(_operator.Reconciles), n => n >= reconcilesBefore + 8, Timeout, "eight more probe reconciles");

        Assert.Equal(writesBefore, _env.Emulator.WriteCount);
    }

    private Task ApplyNodeAsync(string ns, string name, bool service = false) =>
        _env.KubectlOkAsync("apply", "-n", ns, "-f", WriteManifest($"""
            apiVersion: comfyoperator.io/v1alpha1
            kind: ComfyNode
            metadata:
              name: {name}
            spec:
              image: comfyui:test
              service:
                enabled: {(service ? "true" : "false")}
            """));

    private static string WriteManifest(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cn-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
