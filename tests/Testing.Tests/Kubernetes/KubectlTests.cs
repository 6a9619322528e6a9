using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>The real kubectl (v1.32 on our machines) driving the emulator. A missing kubectl fails.</summary>
public sealed class KubectlTests : IAsyncLifetime
{
    private const string Widget = """
        apiVersion: demo.example.com/v1
        kind: Widget
        metadata:
          name: w1
        spec:
          size: 2
          color: blue
        """;

    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kube-emulator-" + Guid.NewGuid().ToString("N"));
    private KubeApiEmulator _emulator = null!;
    private Kubectl _kubectl = null!;
    private ApiClient _api = null!;

    public async Task InitializeAsync()
    {
        _emulator = await KubeApiEmulator.StartAsync();
        _kubectl = new Kubectl(_emulator.WriteKubeconfig(Path.Combine(_dir, "config")));
        _api = new ApiClient(_emulator.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        _kubectl.Dispose();
        await _emulator.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Kubectl_Binary_IsInstalled()
    {
        Assert.True(File.Exists(Kubectl.ExecutablePath));
    }

    [Fact]
    public async Task ApplyAndWait_CrdAndObject_EstablishedAndPrinterColumnsShown()
    {
        await ApplyWidgetCrdAsync();
        var apply = await _kubectl.RunAsync("apply -f -", Widget);
        Assert.True(apply.Succeeded, apply.ToString());
        Assert.Contains("widget.demo.example.com/w1 created", apply.StdOut);

        var again = await _kubectl.RunAsync("apply -f -", Widget.Replace("blue", "red"));
        Assert.True(again.Succeeded, again.ToString());
        Assert.Contains("configured", again.StdOut);

        var get = await _kubectl.RunAsync("get widgets");
        Assert.True(get.Succeeded, get.ToString());
        var lines = get.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+SIZE\s+COLOR\s+READY\s+AGE$", lines[0].Trim());
        Assert.Matches(@"^w1\s+2\s+red\s+\d+s$", lines[1].Trim());

        var shortName = await _kubectl.RunAsync("get wd w1 -o jsonpath={.spec.color}");
        Assert.Equal("red", shortName.StdOut);
    }

    [Fact]
    public async Task GetWatch_ObjectUpdated_SeesNewRow()
    {
        await ApplyWidgetCrdAsync();
        Assert.True((await _kubectl.RunAsync("apply -f -", Widget)).Succeeded);
        using var watch = _kubectl.StartStreaming(["get", "widgets", "-w"]);
        await watch.WaitForLineAsync(l => l.StartsWith("w1", StringComparison.Ordinal) && l.Contains("blue"), s_deadline);

        var patch = await _kubectl.RunAsync(["patch", "widget", "w1", "--type=merge", "-p", """{"spec":{"color":"green"}}"""]);
        Assert.True(patch.Succeeded, patch.ToString());

        var line = await watch.WaitForLineAsync(l => l.StartsWith("w1", StringComparison.Ordinal) && l.Contains("green"), s_deadline);
        Assert.Matches(@"^w1\s+2\s+green\s+", line);
    }

    [Fact]
    public async Task Delete_ObjectWithFinalizer_WaitsUntilFinalizerRemoved()
    {
        await ApplyWidgetCrdAsync();
        var withFinalizer = Widget.Replace("  name: w1", "  name: w1\n  finalizers: [demo.example.com/cleanup]");
        Assert.True((await _kubectl.RunAsync("apply -f -", withFinalizer)).Succeeded);

        var delete = _kubectl.RunAsync("delete widget w1", timeout: s_deadline);
        var path = "/apis/demo.example.com/v1/namespaces/default/widgets/w1";
        await WaitUntilAsync(async () => (await _api.GetAsync(path)).Json?["metadata"]?["deletionTimestamp"] is not null);
        await WaitUntilAsync(() => Task.FromResult(_emulator.OpenWatchCount > 0));
        Assert.False(delete.IsCompleted, "kubectl delete returned while the finalizer was still present");

        var removed = await _api.PatchAsync(path, """{"metadata":{"finalizers":null}}""");
        Assert.Equal(200, removed.Code);
        var result = await delete;
        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("\"w1\" deleted", result.StdOut);
        Assert.Equal(404, (await _api.GetAsync(path)).Code);
    }

    [Fact]
    public async Task Scale_CustomResource_UpdatesSpecPath()
    {
        await ApplyWidgetCrdAsync();
        Assert.True((await _kubectl.RunAsync("apply -f -", Widget)).Succeeded);
        var scale = await _kubectl.RunAsync("scale widget w1 --replicas=7");
        Assert.True(scale.Succeeded, scale.ToString());
        Assert.Contains("scaled", scale.StdOut);
        var size = await _kubectl.RunAsync("get widget w1 -o jsonpath={.spec.size}");
        Assert.Equal("7", size.StdOut);
    }

    [Fact]
    public async Task PatchMerge_SchemaViolation_RefusedWithKubectlMessage()
    {
        await ApplyWidgetCrdAsync();
        Assert.True((await _kubectl.RunAsync("apply -f -", Widget)).Succeeded);

        var ok = await _kubectl.RunAsync(["patch", "widget", "w1", "--type=merge", "-p", """{"spec":{"size":9}}"""]);
        Assert.True(ok.Succeeded, ok.ToString());
        Assert.Contains("widget.demo.example.com/w1 patched", ok.StdOut);

        var bad = await _kubectl.RunAsync(["patch", "widget", "w1", "--type=merge", "-p", """{"spec":{"size":15}}"""]);
        Assert.False(bad.Succeeded);
        Assert.Contains("The Widget \"w1\" is invalid: spec.size: Invalid value: 15: spec.size in body should be less than or equal to 10", bad.StdErr);

        var badApply = await _kubectl.RunAsync("apply -f -", Widget.Replace("size: 2", "size: \"big\""));
        Assert.False(badApply.Succeeded);
        Assert.Contains("spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\"", badApply.StdErr);
    }

    [Fact]
    public async Task Apply_BuiltInConfigMapTwice_StrategicMergeAccepted()
    {
        const string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: one\n";
        Assert.True((await _kubectl.RunAsync("apply -f -", cm)).Succeeded);
        var second = await _kubectl.RunAsync("apply -f -", cm.Replace("one", "two"));
        Assert.True(second.Succeeded, second.ToString());
        var value = await _kubectl.RunAsync("get configmap settings -o jsonpath={.data.a}");
        Assert.Equal("two", value.StdOut);
    }

    [Fact]
    public async Task Apply_PodDisruptionBudgetAndIngress_ServedAsBuiltInKinds()
    {
        const string objects = """
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata:
              name: web
            spec:
              maxUnavailable: 1
              selector: {matchLabels: {app: web}}
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: web
            spec:
              ingressClassName: nginx
              rules:
                - host: web.example.com
                  http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
            """;
        var apply = await _kubectl.RunAsync("apply --server-side -f -", objects);
        Assert.True(apply.Succeeded, apply.ToString());

        var pdb = await _kubectl.RunAsync("get pdb web");
        Assert.True(pdb.Succeeded, pdb.ToString());
        Assert.Matches(@"NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE", pdb.StdOut);
        var ingress = await _kubectl.RunAsync("get ingress web");
        Assert.Matches(@"web\s+nginx\s+web.example.com", ingress.StdOut);
    }

    [Fact]
    public async Task Apply_KindTheServerDoesNotServe_FailsAsOnARealCluster()
    {
        const string monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: m\n";

        var apply = await _kubectl.RunAsync("apply -f -", monitor);

        Assert.False(apply.Succeeded);
        Assert.Contains("no matches for kind \"ServiceMonitor\" in version \"monitoring.coreos.com/v1\"", apply.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyServerSide_CustomResource_CreatesThenUpdates()
    {
        await ApplyWidgetCrdAsync();
        var first = await _kubectl.RunAsync("apply --server-side -f -", Widget);
        Assert.True(first.Succeeded, first.ToString());
        var second = await _kubectl.RunAsync("apply --server-side -f -", Widget.Replace("blue", "black"));
        Assert.True(second.Succeeded, second.ToString());
        var color = await _kubectl.RunAsync("get widget w1 -o jsonpath={.spec.color}");
        Assert.Equal("black", color.StdOut);
    }

    [Fact]
    public async Task ApplyServerSide_FieldDroppedFromConfig_RemovedUnlessAnotherManagerAppliedIt()
    {
        const string mine = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\ndata:\n  a: one\n  b: two\n  shared: s\n";
        const string theirs = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\ndata:\n  shared: s\n";
        Assert.True((await _kubectl.RunAsync("apply --server-side --field-manager=me -f -", mine)).Succeeded);
        Assert.True((await _kubectl.RunAsync("apply --server-side --field-manager=them -f -", theirs)).Succeeded);

        var again = await _kubectl.RunAsync("apply --server-side --field-manager=me -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\ndata:\n  a: uno\n");

        Assert.True(again.Succeeded, again.ToString());
        var data = await _kubectl.RunAsync("get configmap owned -o jsonpath={.data}");
        Assert.Equal("""{"a":"uno","shared":"s"}""", data.StdOut);
        var managers = await _kubectl.RunAsync(["get", "configmap", "owned", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}"]);
        Assert.Equal("me them", string.Join(' ', managers.StdOut.Split(' ').Order()));
    }

    [Fact]
    public async Task DeleteNamespace_WithContents_CascadesAndWaits()
    {
        await ApplyWidgetCrdAsync();
        Assert.True((await _kubectl.RunAsync("apply -f -", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n")).Succeeded);
        Assert.True((await _kubectl.RunAsync("apply -n team -f -", Widget)).Succeeded);
        var delete = await _kubectl.RunAsync("delete namespace team", timeout: s_deadline);
        Assert.True(delete.Succeeded, delete.ToString());
        Assert.Equal(404, (await _api.GetAsync("/api/v1/namespaces/team")).Code);
        Assert.Equal(404, (await _api.GetAsync("/apis/demo.example.com/v1/namespaces/team/widgets/w1")).Code);
    }

    private async Task ApplyWidgetCrdAsync()
    {
        var apply = await _kubectl.RunAsync("apply -f -", TestCrds.WidgetCrdYaml);
        Assert.True(apply.Succeeded, apply.ToString());
        var wait = await _kubectl.RunAsync("wait --for=condition=Established crd/widgets.demo.example.com --timeout=20s", timeout: s_deadline);
        Assert.True(wait.Succeeded, wait.ToString());
        Assert.Contains("condition met", wait.StdOut);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow + s_deadline;
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "condition not met before the deadline");
            await Task.Delay(20);
        }
    }
}
