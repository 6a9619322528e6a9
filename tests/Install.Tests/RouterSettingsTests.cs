using System.Reflection;
using ComfyOperator.Observability.Logging;
using ComfyOperator.Observability.Metrics;
using Microsoft.Extensions.Configuration;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// Every setting the chart gives the router (its ConfigMap, read with envFrom, and the container's
/// env) is turned into configuration the way the router does it (<c>COMFY_ROUTER__*</c> through the
/// router's own provider, other names like the default environment provider) and must bind to a
/// property of a router options class (any class with a <c>SectionName</c>, plus the <c>Metrics</c>
/// exporter options and the logging keys): a name nothing reads fails the test, and so does a value
/// the binder cannot convert.
/// </summary>
public sealed class RouterSettingsTests
{
    /// <summary>Environment variables of the router container that are not router settings but are read by what the router uses.</summary>
    private static readonly HashSet<string> NotSettings = new(StringComparer.Ordinal)
    {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", // the AWS SDK's credential chain (S3OutputOptions falls back to it)
        "POD_NAMESPACE", // downward API, for the router's logs and node source
    };

    private static readonly Assembly Router = typeof(Program).Assembly;

    public static TheoryData<string> ValueSets => new()
    {
        "{}",
        """
        router:
          metricsPort: 9091
          logFormat: json
          nodeSource: Static
          nodes: ["http://gpu[1-4]:8188"]
          outputs: {store: S3, s3: {endpoint: "http://minio:9000", bucket: outputs, useChunkEncoding: false}}
          settings: {runTimeout: "1.02:00:00", placementPolicy: RoundRobin}
        """,
        "minio: {enabled: true}\nrouter: {outputs: {store: S3}}\ncache: {enabled: false}",
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task ChartSettings_EachBindsToARouterOptionsProperty(string values)
    {
        var environment = await RenderRouterEnvironmentAsync(values);
        Assert.Contains("COMFY_ROUTER__PENDING_LIMIT", environment.Keys);

        var (problems, bound) = Check(environment);

        Assert.True(problems.Count == 0, "the chart sets router settings nothing binds:\n" + string.Join('\n', problems));
        Assert.True(bound >= 10, $"only {bound} settings bound");
    }

    [Fact]
    public async Task ChartSettings_NameNoOptionsClassBinds_Reported()
    {
        var environment = await RenderRouterEnvironmentAsync("router: {extraSettings: {NODE_SOURCE: Kubernetes, OUTPUTS__S3__ENDPOINT: \"http://x\", PENDING_LIMIT: lots}}");

        var (problems, _) = Check(environment);

        Assert.Contains(problems, p => p.StartsWith("COMFY_ROUTER__NODE_SOURCE", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("COMFY_ROUTER__OUTPUTS__S3__ENDPOINT", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("COMFY_ROUTER__PENDING_LIMIT", StringComparison.Ordinal));
        Assert.Equal(3, problems.Count);
    }

    private static (List<string> Problems, int Bound) Check(Dictionary<string, string?> environment)
    {
        var sections = OptionsSections();

        var problems = new List<string>();
        var bound = 0;
        foreach (var (name, value) in environment)
        {
            if (NotSettings.Contains(name))
            {
                continue;
            }

            var key = ConfigurationKey(name);
            if (key is null)
            {
                problems.Add($"{name}: not a router setting (no COMFY_ROUTER__ prefix, not a known section)");
                continue;
            }

            if (key.StartsWith("Logging:LogLevel:", StringComparison.OrdinalIgnoreCase) || string.Equals(key, ComfyLoggingExtensions.FormatKey, StringComparison.OrdinalIgnoreCase))
            {
                bound++;
                continue;
            }

            var section = sections.Keys.Where(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)).MaxBy(s => s.Length);
            if (section is null)
            {
                problems.Add($"{name} → {key}: no router options class binds section of this key");
                continue;
            }

            var relative = key[(section.Length + 1)..];
            var errors = new List<string>();
            foreach (var type in sections[section])
            {
                if (TryBind(type, relative, value ?? "", out var error))
                {
                    errors.Clear();
                    bound++;
                    break;
                }

                errors.Add($"{type.Name}: {error}");
            }

            if (errors.Count > 0)
            {
                problems.Add($"{name} → {key}: {string.Join("; ", errors)}");
            }
        }

        return (problems, bound);
    }

    [Fact]
    public async Task ChartSettings_S3MetricsAndCache_ReachTheRouterOptionsWithTheirValues()
    {
        var environment = await RenderRouterEnvironmentAsync("""
            router:
              metricsPort: 9091
              outputs: {store: S3, s3: {endpoint: "http://minio:9000", bucket: outputs, prefix: p, forcePathStyle: false}}
            cache: {mountPath: /shared, maxInputCacheBytes: 1073741824}
            """);
        var configuration = RouterConfiguration(environment);

        var outputs = Bind(configuration, "Router:Outputs", "ComfyOperator.Router.Outputs.OutputStoreOptions");
        Assert.Equal("s3", Property(outputs, "Kind"));
        var s3 = Property(outputs, "S3")!;
        Assert.Equal("http://minio:9000", Property(s3, "ServiceUrl"));
        Assert.Equal("outputs", Property(s3, "Bucket"));
        Assert.Equal("p", Property(s3, "Prefix"));
        Assert.Equal(false, Property(s3, "ForcePathStyle"));
        var inputs = Bind(configuration, "Router:Inputs", "ComfyOperator.Router.Inputs.InputCacheOptions");
        Assert.Equal("/shared/inputs", Property(inputs, "CacheDirectory"));
        Assert.Equal(1073741824L, Property(inputs, "MaxCacheBytes"));
        Assert.Equal(9091, configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>()!.Port);
        Assert.True(configuration.UsesSeparateMetricsPort());
        var router = Bind(configuration, "Router", "ComfyOperator.Router.Configuration.RouterOptions", errorOnUnknown: false);
        Assert.Equal("/etc/comfy-router/auth/api-keys", Property(router, "ApiKeysFile"));
    }

    [Fact]
    public async Task ChartSettings_KubernetesNodeSource_EnablesTheRouterSourceInTheWatchedNamespaces()
    {
        var configuration = RouterConfiguration(await RenderRouterEnvironmentAsync("router: {nodeSource: Kubernetes, watchNamespaces: [gpu-a, gpu-b]}"));

        var workflows = Bind(configuration, "Router", "ComfyOperator.Router.Workflows.WorkflowRoutingOptions", errorOnUnknown: false);
        var kubernetes = Property(workflows, "Kubernetes")!;
        Assert.Equal(true, Property(kubernetes, "Enabled"));
        Assert.Equal(["gpu-a", "gpu-b"], (IEnumerable<string>)Property(kubernetes, "Namespaces")!);

        var staticOnly = RouterConfiguration(await RenderRouterEnvironmentAsync("router: {nodeSource: Static, nodes: [\"http://gpu1:8188\"]}"));
        var off = Bind(staticOnly, "Router", "ComfyOperator.Router.Workflows.WorkflowRoutingOptions", errorOnUnknown: false);
        Assert.Equal(false, Property(Property(off, "Kubernetes")!, "Enabled"));
    }

    /// <summary>The router container's environment: the settings ConfigMap (envFrom) plus env entries (valueFrom ones with an empty value).</summary>
    private static async Task<Dictionary<string, string?>> RenderRouterEnvironmentAsync(string values)
    {
        var result = await Helm.TemplateWithValuesAsync(values);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var deployment = manifests.Items.Single(m => m.Kind == "Deployment" && !m.Name.Contains("operator", StringComparison.Ordinal) && !m.Name.Contains("minio", StringComparison.Ordinal));
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var source in Tree.List(deployment.Root, "spec.template.spec.containers.0.envFrom"))
        {
            var name = (string)Tree.Get(source, "configMapRef.name")!;
            foreach (var (key, value) in Tree.Map(manifests.Single("ConfigMap", name).Root, "data"))
            {
                environment[key] = value as string;
            }
        }

        foreach (var entry in Tree.List(deployment.Root, "spec.template.spec.containers.0.env"))
        {
            environment[(string)Tree.Get(entry, "name")!] = Tree.Get(entry, "value") as string;
        }

        return environment;
    }

    /// <summary>The router's own mapping for COMFY_ROUTER__ names; the default environment provider's (<c>__</c> → <c>:</c>) for the rest.</summary>
    private static string? ConfigurationKey(string name)
    {
        const string prefix = "COMFY_ROUTER__";
        if (name.StartsWith(prefix, StringComparison.Ordinal))
        {
            var provider = Router.GetType("ComfyOperator.Router.Configuration.RouterEnvironmentVariablesProvider", throwOnError: true)!;
            var mapKey = provider.GetMethod("MapKey", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!;
            return (string?)mapKey.Invoke(null, [name[prefix.Length..]]);
        }

        return name.Contains("__", StringComparison.Ordinal) ? name.Replace("__", ":", StringComparison.Ordinal) : null;
    }

    private static IConfiguration RouterConfiguration(Dictionary<string, string?> environment)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(
            environment.Where(e => !e.Key.StartsWith("COMFY_ROUTER__", StringComparison.Ordinal) && e.Key.Contains("__", StringComparison.Ordinal))
                .Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)));
        var source = Router.GetType("ComfyOperator.Router.Configuration.RouterEnvironmentVariablesSource", throwOnError: true)!;
        builder.Add((IConfigurationSource)Activator.CreateInstance(source, [new System.Collections.Hashtable(environment.Where(e => e.Key.StartsWith("COMFY_ROUTER__", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value))])!);
        return builder.Build();
    }

    /// <summary>Section → the options types bound to it: every router type with a <c>SectionName</c> constant, and the metrics options under <c>Metrics</c>.</summary>
    private static Dictionary<string, List<Type>> OptionsSections()
    {
        var sections = new Dictionary<string, List<Type>>(StringComparer.OrdinalIgnoreCase);
        foreach (var type in Router.GetTypes())
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.GetRawConstantValue() is string section)
            {
                (sections.TryGetValue(section, out var list) ? list : sections[section] = []).Add(type);
            }
        }

        Assert.True(sections.Count >= 4, "router options classes: " + string.Join(", ", sections.Keys));
        sections[MetricsOptions.SectionName] = [typeof(MetricsOptions)];
        return sections;
    }

    /// <summary>Binds one key (relative to the options section) onto <paramref name="type"/>, refusing keys it has no property for.</summary>
    private static bool TryBind(Type type, string key, string value, out string? error)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
        try
        {
            var instance = Activator.CreateInstance(type, nonPublic: true)!;
            configuration.Bind(instance, o => o.ErrorOnUnknownConfiguration = true);
            error = null;
            return true;
        }
        catch (InvalidOperationException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>Binds a whole section; the Router section also holds the Inputs/Outputs/Webhooks sections, so it is bound without the unknown-key check.</summary>
    private static object Bind(IConfiguration configuration, string section, string typeName, bool errorOnUnknown = true)
    {
        var instance = Activator.CreateInstance(Router.GetType(typeName, throwOnError: true)!, nonPublic: true)!;
        configuration.GetSection(section).Bind(instance, o => o.ErrorOnUnknownConfiguration = errorOnUnknown);
        return instance;
    }

    private static object? Property(object instance, string name) => instance.GetType().GetProperty(name)!.GetValue(instance);
}
