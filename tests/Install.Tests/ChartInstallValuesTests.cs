namespace ComfyOperator.Install.Tests;

/// <summary><c>helm install</c> with the kind walkthrough's values and with every option on, against the Kubernetes API emulator.</summary>
public sealed class ChartInstallValuesTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Install_KindValues_EveryObjectCreatedAndCpuNodeSampleValid()
    {
        await cluster.HelmAsync("install", "comfy", RepoPaths.Chart, "--namespace", "default", "-f", RepoPaths.KindValues);

        var (manifests, path) = await cluster.ReleaseManifestAsync("comfy", "default");
        ClusterFixture.AssertNamespaces(manifests, "default");
        await cluster.AssertAllExistAsync(manifests, path);

        // The kind walkthrough's CPU ComfyNode validates against the chart's CRD and names the chart's cache claim.
        await cluster.KubectlAsync(["apply", "-f", RepoPaths.Combine("hack", "kind", "comfynode-cpu.yaml")]);
        var claim = await cluster.KubectlAsync(["get", "comfynodes", "-o", "jsonpath={.items[0].spec.modelCache.claimName}"]);
        Assert.Equal("comfy-cache", claim.StdOut);
        await cluster.KubectlAsync(["get", "pvc", "comfy-cache", "-o", "name"]);
    }

    [Fact]
    public async Task Install_FullValuesInOtherNamespace_EveryObjectCreatedWithRolesInWatchedNamespaces()
    {
        foreach (var ns in new[] { "comfy-system", "team-a", "team-b" })
        {
            await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
        }

        await cluster.KubectlAsync(["apply", "-f", "-"], StandInCrds.ServiceMonitor);

        await cluster.HelmAsync("install", "comfy", RepoPaths.Chart, "--namespace", "comfy-system", "-f", RepoPaths.FullValues);

        var (manifests, path) = await cluster.ReleaseManifestAsync("comfy", "comfy-system");
        ClusterFixture.AssertNamespaces(manifests, "comfy-system", "team-a", "team-b");
        await cluster.AssertAllExistAsync(manifests, path);
        foreach (var kind in new[] { "Ingress", "ServiceMonitor", "PodDisruptionBudget", "Role", "RoleBinding" })
        {
            Assert.Contains(manifests.Items, m => m.Kind == kind);
        }

        foreach (var ns in new[] { "team-a", "team-b" })
        {
            var role = await cluster.KubectlAsync(["get", "role,rolebinding", "-n", ns, "-o", "name"]);
            Assert.Contains("role.rbac.authorization.k8s.io/comfy-comfy-router-operator", role.StdOut, StringComparison.Ordinal);
            Assert.Contains("rolebinding.rbac.authorization.k8s.io/comfy-comfy-router-router", role.StdOut, StringComparison.Ordinal);
        }
    }
}
