using System.Text.Json.Nodes;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// <c>helm install</c>, <c>upgrade</c> and <c>uninstall</c> of the chart against the Kubernetes API
/// emulator: what a user of the chart sees in the cluster after each.
/// </summary>
public sealed class ChartInstallTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Install_DefaultValues_ServerDryRunCreatesNothingThenEveryObjectCreated()
    {
        await cluster.HelmAsync("install", "comfy", RepoPaths.Chart, "--namespace", "default", "--dry-run=server");
        Assert.False((await cluster.TryKubectlAsync(["get", "deployment", "comfy-comfy-router"])).Succeeded);

        await cluster.HelmAsync("install", "comfy", RepoPaths.Chart, "--namespace", "default");

        var (manifests, path) = await cluster.ReleaseManifestAsync("comfy", "default");
        ClusterFixture.AssertNamespaces(manifests, "default");
        await cluster.AssertAllExistAsync(manifests, path);
        Assert.Contains(manifests.Items, m => m.Kind == "Deployment" && m.Name == "comfy-comfy-router-operator");
        Assert.Contains(manifests.Items, m => m.Kind == "Deployment" && m.Name == "comfy-comfy-router");
        Assert.Equal(2, manifests.OfKind("PodDisruptionBudget").Count());
        var crds = await cluster.KubectlAsync(["get", "crd", "-o", "name"]);
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/comfynodes.comfyoperator.io", crds.StdOut, StringComparison.Ordinal);
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/workflowdeployments.comfyoperator.io", crds.StdOut, StringComparison.Ordinal);
        var status = JsonNode.Parse((await cluster.HelmAsync("status", "comfy", "--namespace", "default", "-o", "json")).StdOut)!;
        Assert.Equal("deployed", status["info"]!["status"]!.GetValue<string>());
        Assert.Contains("kubectl port-forward -n default svc/comfy-comfy-router", status["info"]!["notes"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade_ChangedValues_ObjectsUpdatedAddedRemovedAndRevisionsRecorded()
    {
        await cluster.HelmAsync("install", "up", RepoPaths.Chart, "--namespace", "upgrade", "--create-namespace");
        var checksum = await SettingsChecksumAsync();

        await cluster.HelmAsync("upgrade", "up", RepoPaths.Chart, "--namespace", "upgrade",
            "--set", "router.settings.pendingLimit=7", "--set", "router.ingress.enabled=true", "--set", "router.extraSettings.TRACE_RUNS=true");

        Assert.Equal("7", (await SettingAsync("COMFY_ROUTER__PENDING_LIMIT")).StdOut);
        Assert.NotEqual(checksum, await SettingsChecksumAsync());
        await cluster.KubectlAsync(["get", "ingress", "up-comfy-router", "-n", "upgrade"]);

        Assert.Equal("true", (await SettingAsync("COMFY_ROUTER__TRACE_RUNS")).StdOut);

        // Values reset to the chart's: the ingress the previous revision had is deleted, the extra setting is gone.
        await cluster.HelmAsync("upgrade", "up", RepoPaths.Chart, "--namespace", "upgrade", "--reset-values");
        var ingress = await cluster.TryKubectlAsync(["get", "ingress", "up-comfy-router", "-n", "upgrade"]);
        Assert.Contains("NotFound", ingress.StdErr, StringComparison.Ordinal);
        Assert.Empty((await SettingAsync("COMFY_ROUTER__TRACE_RUNS")).StdOut);
        Assert.Equal("25", (await SettingAsync("COMFY_ROUTER__PENDING_LIMIT")).StdOut);
        Assert.Equal(checksum, await SettingsChecksumAsync());

        var history = JsonNode.Parse((await cluster.HelmAsync("history", "up", "--namespace", "upgrade", "-o", "json")).StdOut)!.AsArray();
        Assert.Equal(["superseded", "superseded", "deployed"], history.Select(r => r!["status"]!.GetValue<string>()));
        Assert.Equal([1, 2, 3], history.Select(r => r!["revision"]!.GetValue<int>()));
        var (manifests, path) = await cluster.ReleaseManifestAsync("up", "upgrade");
        await cluster.AssertAllExistAsync(manifests, path);

        Task<Testing.Kubernetes.KubectlResult> SettingAsync(string name) =>
            cluster.KubectlAsync(["get", "configmap", "up-comfy-router-settings", "-n", "upgrade", "-o", $"jsonpath={{.data.{name}}}"]);

        async Task<string> SettingsChecksumAsync() => (await cluster.KubectlAsync(
            ["get", "deployment", "up-comfy-router", "-n", "upgrade", "-o", "jsonpath={.spec.template.metadata.annotations.checksum/settings}"])).StdOut;
    }

    [Fact]
    public async Task Uninstall_Release_RemovesItsObjectsButKeepsTheCacheClaimAndCrds()
    {
        await cluster.HelmAsync("install", "gone", RepoPaths.Chart, "--namespace", "uninstall", "--create-namespace");
        var (manifests, path) = await cluster.ReleaseManifestAsync("gone", "uninstall");

        var uninstall = await cluster.HelmAsync("uninstall", "gone", "--namespace", "uninstall");

        Assert.Contains("[PersistentVolumeClaim] gone-comfy-router-cache", uninstall.StdOut, StringComparison.Ordinal);
        var left = await cluster.TryKubectlAsync(["get", "-f", path, "-o", "name", "--ignore-not-found"]);
        Assert.Equal("persistentvolumeclaim/gone-comfy-router-cache", left.StdOut.Trim());
        Assert.True(manifests.Items.Count > 10, $"only {manifests.Items.Count} objects in the release");
        var releases = await cluster.KubectlAsync(["get", "secrets", "-n", "uninstall", "-l", "owner=helm,name=gone", "-o", "name"]);
        Assert.Empty(releases.StdOut.Trim());
        await cluster.KubectlAsync(["get", "crd", "comfynodes.comfyoperator.io"]);
        Assert.DoesNotContain("gone", (await cluster.HelmAsync("list", "--all-namespaces", "-q")).StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_InChartPostgresql_UpgradeKeepsGeneratedPasswordAndUninstallRemovesIt()
    {
        await cluster.HelmAsync("install", "pg", RepoPaths.Chart, "--namespace", "postgres", "--create-namespace",
            "--set", "router.store.kind=postgres", "--set", "postgresql.enabled=true");
        var (manifests, path) = await cluster.ReleaseManifestAsync("pg", "postgres");
        await cluster.AssertAllExistAsync(manifests, path);
        var password = await SecretValueAsync("password");
        Assert.Equal(24, password.Length);
        Assert.EndsWith(";Password=" + password, await SecretValueAsync("connection-string"), StringComparison.Ordinal);
        var connectionRef = await cluster.KubectlAsync(["get", "deployment", "pg-comfy-router", "-n", "postgres", "-o",
            "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"COMFY_ROUTER__STORE__CONNECTION_STRING\")].valueFrom.secretKeyRef.name}"]);
        Assert.Equal("pg-comfy-router-postgresql", connectionRef.StdOut);

        await cluster.HelmAsync("upgrade", "pg", RepoPaths.Chart, "--namespace", "postgres", "--reuse-values", "--set", "router.settings.pendingLimit=7");

        Assert.Equal(password, await SecretValueAsync("password"));
        Assert.EndsWith(";Password=" + password, await SecretValueAsync("connection-string"), StringComparison.Ordinal);

        await cluster.HelmAsync("uninstall", "pg", "--namespace", "postgres");
        var left = await cluster.TryKubectlAsync(["get", "-f", path, "-o", "name", "--ignore-not-found"]);
        Assert.Equal("persistentvolumeclaim/pg-comfy-router-cache", left.StdOut.Trim());

        async Task<string> SecretValueAsync(string key)
        {
            var data = await cluster.KubectlAsync(["get", "secret", "pg-comfy-router-postgresql", "-n", "postgres", "-o", $"jsonpath={{.data.{key}}}"]);
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data.StdOut));
        }
    }

    [Fact]
    public async Task Install_ServiceMonitorWithoutItsCrd_FailsNamingTheMissingKindAndCreatesNothing()
    {
        var result = await Helm.RunAsync(
            ["install", "mon", RepoPaths.Chart, "--namespace", "monitoring", "--create-namespace", "--set", "metrics.serviceMonitor.enabled=true"],
            cluster.Kubeconfig);

        Assert.False(result.Succeeded, result.ToString());
        Assert.Contains("no matches for kind \"ServiceMonitor\" in version \"monitoring.coreos.com/v1\"", result.StdErr, StringComparison.Ordinal);
        var deployments = await cluster.KubectlAsync(["get", "deployments", "-n", "monitoring", "-o", "name"]);
        Assert.Empty(deployments.StdOut.Trim());
    }
}
