using System.Reflection;

namespace ComfyOperator.Install.Tests;

/// <summary>The chart's router settings land on real <c>RouterOptions</c> properties through the router's own COMFY_ROUTER__ mapping.</summary>
public sealed class RouterSettingsTests
{
    /// <summary>
    /// Settings the chart passes ahead of the router options that will read them (Kubernetes node
    /// source, output store, metrics port: issues 6, 7, 8). Nested sections (S3__, KUBERNETES__,
    /// INPUT_CACHE__) are not checked either, for the same reason.
    /// </summary>
    private static readonly HashSet<string> Pending = new(StringComparer.Ordinal)
    {
        "COMFY_ROUTER__NODE_SOURCE", "COMFY_ROUTER__OUTPUT_STORE", "COMFY_ROUTER__METRICS_PORT",
    };

    [Fact]
    public async Task ChartSettings_MapOntoRouterOptionsProperties()
    {
        var assembly = typeof(Program).Assembly;
        var options = assembly.GetType("ComfyOperator.Router.Configuration.RouterOptions", throwOnError: true)!;
        var provider = assembly.GetType("ComfyOperator.Router.Configuration.RouterEnvironmentVariablesProvider", throwOnError: true)!;
        var mapKey = provider.GetMethod("MapKey", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!;
        var properties = options.GetProperties().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var result = await ChartRenderer.RenderWithValuesAsync("router: {metricsPort: 9091}");
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var names = Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data").Keys
            .Concat(Tree.List(manifests.Single("Deployment", "comfy-comfy-router").Root, "spec.template.spec.containers.0.env").Select(e => (string)Tree.Get(e, "name")!))
            .Where(n => n.StartsWith("COMFY_ROUTER__", StringComparison.Ordinal))
            .ToList();
        Assert.Contains("COMFY_ROUTER__PASSWORD", names);
        Assert.Contains("COMFY_ROUTER__PENDING_LIMIT", names);

        var checkedCount = 0;
        foreach (var name in names.Where(n => !Pending.Contains(n)))
        {
            var key = (string?)mapKey.Invoke(null, [name["COMFY_ROUTER__".Length..]]);
            Assert.NotNull(key);
            var segments = key!.Split(':');
            Assert.Equal("Router", segments[0]);
            if (segments.Length > 2)
            {
                continue; // a nested section
            }

            Assert.True(properties.Contains(segments[1]), $"{name} maps to {key}, which RouterOptions does not have");
            checkedCount++;
        }

        Assert.True(checkedCount >= 12, $"only {checkedCount} settings checked");
    }
}
