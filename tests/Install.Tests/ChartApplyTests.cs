using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// The rendered chart applied with the real kubectl to the Kubernetes API emulator: first
/// `--dry-run=server`, then for real; every object must be accepted and then be readable.
/// </summary>
public sealed class ChartApplyTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("chart-apply-");
    private KubeApiEmulator _emulator = null!;
    private Kubectl _kubectl = null!;

    public async Task InitializeAsync()
    {
        _emulator = await KubeApiEmulator.StartAsync();
        _kubectl = new Kubectl(_emulator.WriteKubeconfig(Path.Combine(_dir.FullName, "kubeconfig")));
        var standIns = await _kubectl.RunAsync("apply -f -", StandInCrds.Yaml, s_timeout);
        Assert.True(standIns.Succeeded, standIns.ToString());
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _emulator.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public async Task Apply_DefaultValues_EveryObjectAccepted()
    {
        await ApplyAndVerifyAsync(await RenderToFileAsync([]), "default");
    }

    [Fact]
    public async Task Apply_KindValues_EveryObjectAcceptedAndCpuNodeSampleValid()
    {
        await ApplyAndVerifyAsync(await RenderToFileAsync([RepoPaths.KindValues]), "default");

        // The kind walkthrough's CPU ComfyNode validates against the chart's CRD and names the chart's cache claim.
        var sample = RepoPaths.Combine("hack", "kind", "comfynode-cpu.yaml");
        var apply = await _kubectl.RunAsync(["apply", "-f", sample], timeout: s_timeout);
        Assert.True(apply.Succeeded, apply.ToString());
        var claim = await _kubectl.RunAsync(["get", "comfynodes", "-o", "jsonpath={.items[0].spec.modelCache.claimName}"], timeout: s_timeout);
        Assert.Equal("comfy-cache", claim.StdOut);
        var pvc = await _kubectl.RunAsync(["get", "pvc", "comfy-cache", "-o", "name"], timeout: s_timeout);
        Assert.True(pvc.Succeeded, pvc.ToString());
    }

    [Fact]
    public async Task Apply_NamespacedRbacIngressServiceMonitorInOtherNamespace_EveryObjectAccepted()
    {
        foreach (var ns in new[] { "comfy-system", "team-a", "team-b" })
        {
            var create = await _kubectl.RunAsync("apply -f -", $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n", s_timeout);
            Assert.True(create.Succeeded, create.ToString());
        }

        var values = Path.Combine(_dir.FullName, "namespaced.yaml");
        await File.WriteAllTextAsync(values, """
            rbac:
              clusterWide: false
            operator:
              watchNamespaces: [team-a, team-b]
              replicas: 2
            router:
              ingress:
                enabled: true
                className: nginx
                tls:
                  - secretName: comfy-tls
                    hosts: [comfy.example.com]
              outputs:
                store: S3
                s3:
                  endpoint: https://s3.example.com
                  bucket: outputs
                  accessKeyId: AKIAEXAMPLE
                  secretAccessKey: secret-example
            metrics:
              serviceMonitor:
                enabled: true
            """);
        var rendered = await RenderToFileAsync([values], "comfy-system");
        await ApplyAndVerifyAsync(rendered, "comfy-system", "team-a", "team-b");
        foreach (var ns in new[] { "team-a", "team-b" })
        {
            var role = await _kubectl.RunAsync(["get", "role,rolebinding", "-n", ns, "-o", "name"], timeout: s_timeout);
            Assert.True(role.Succeeded, role.ToString());
            Assert.Contains("role.rbac.authorization.k8s.io/comfy-comfy-router-operator", role.StdOut);
            Assert.Contains("rolebinding.rbac.authorization.k8s.io/comfy-comfy-router-router", role.StdOut);
        }
    }

    private async Task<string> RenderToFileAsync(string[] valueFiles, string @namespace = "default")
    {
        var result = await ChartRenderer.RenderAsync(valueFiles, includeCrds: true, @namespace: @namespace);
        Assert.True(result.Succeeded, result.ToString());
        var path = Path.Combine(_dir.FullName, $"rendered-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, result.StdOut);
        return path;
    }

    private async Task ApplyAndVerifyAsync(string renderedPath, params string[] namespaces)
    {
        var manifests = ManifestSet.Parse(await File.ReadAllTextAsync(renderedPath));
        Assert.NotEmpty(manifests.Items);

        // Namespaced objects name their namespace (helm's release namespace or a watched one), cluster ones do not.
        var clusterKinds = new[] { "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding" };
        Assert.All(manifests.Items, m => Assert.True(
            clusterKinds.Contains(m.Kind) ? m.Namespace is null : namespaces.Contains(m.Namespace),
            $"{m} has namespace '{m.Namespace}'"));

        // The CRDs first (helm installs crds/ before the templates), then everything.
        var dryRun = await _kubectl.RunAsync(["apply", "--dry-run=server", "-f", renderedPath], timeout: s_timeout);
        Assert.True(dryRun.Succeeded, dryRun.ToString());
        Assert.Equal(manifests.Items.Count, dryRun.StdOut.Split('\n').Count(l => l.EndsWith("(server dry run)", StringComparison.Ordinal)));

        var apply = await _kubectl.RunAsync(["apply", "-f", renderedPath], timeout: s_timeout);
        Assert.True(apply.Succeeded, apply.ToString());

        var get = await _kubectl.RunAsync(["get", "-f", renderedPath, "-o", "name"], timeout: s_timeout);
        Assert.True(get.Succeeded, get.ToString());
        var names = get.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(manifests.Items.Count, names.Length);
        foreach (var manifest in manifests.Items)
        {
            Assert.Contains(names, n => n.EndsWith("/" + manifest.Name, StringComparison.Ordinal)
                && n.StartsWith(manifest.Kind.ToLowerInvariant(), StringComparison.Ordinal));
        }
    }
}
