using System.CommandLine;
using System.Reflection;

namespace ComfyOperator.Install.Tests;

/// <summary>The chart's operator container: its args parse with <c>comfy-operator</c>'s own command line, its env names are ones the operator reads, and the ports agree.</summary>
public sealed class OperatorSettingsTests
{
    private static readonly Assembly Operator = Assembly.Load("comfy-operator");

    /// <summary>What the operator reads from its environment besides flags: the pod identity and the Logging section.</summary>
    private static readonly HashSet<string> KnownEnvironment = new(StringComparer.Ordinal)
    {
        "POD_NAME", "POD_NAMESPACE", "Logging__LogLevel__Default", "Logging__Format", "COMFY_OPERATOR_WORKER_CLEANUP_TOKEN", "COMFY_OPERATOR_ROUTER_API_KEY",
    };

    public static TheoryData<string> ValueSets => new()
    {
        "{}",
        "operator: {watchNamespaces: [a, b], leaderElection: {enabled: false}, logFormat: json, metricsPort: 9100}\nrbac: {clusterWide: false}",
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task OperatorContainer_ArgsParseAndEnvIsRead(string values)
    {
        var result = await Helm.TemplateWithValuesAsync(values);
        Assert.True(result.Succeeded, result.ToString());
        var deployment = ManifestSet.Parse(result.StdOut).Items.Single(m => m.Kind == "Deployment" && m.Name.EndsWith("operator", StringComparison.Ordinal));
        var args = Tree.List(deployment.Root, "spec.template.spec.containers.0.args").Cast<string>().ToArray();

        var parse = Commands().Parse(args);

        Assert.True(parse.Errors.Count == 0, string.Join('\n', parse.Errors.Select(e => e.Message)) + "\nargs: " + string.Join(' ', args));
        Assert.Equal("run", args[0]);
        var env = Tree.List(deployment.Root, "spec.template.spec.containers.0.env").Select(e => (string)Tree.Get(e, "name")!).ToList();
        Assert.All(env, name => Assert.Contains(name, KnownEnvironment));
        var port = Assert.Single(args, a => a.StartsWith("--metrics-port=", StringComparison.Ordinal))["--metrics-port=".Length..];
        Assert.Equal(port, Tree.Get(deployment.Root, "spec.template.spec.containers.0.ports.0.containerPort")?.ToString());
    }

    [Fact]
    public async Task OperatorMetricsPort_ChartDefaultAndImage_AreTheOperatorsDefault()
    {
        var result = await Helm.TemplateWithValuesAsync("{}");
        Assert.True(result.Succeeded, result.ToString());
        var deployment = ManifestSet.Parse(result.StdOut).Items.Single(m => m.Kind == "Deployment" && m.Name.EndsWith("operator", StringComparison.Ordinal));
        var options = Operator.GetType("ComfyOperator.Operator.Hosting.OperatorOptions", throwOnError: true)!;
        var defaultPort = (int)options.GetField("DefaultMetricsPort", BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;

        Assert.Contains($"--metrics-port={defaultPort}", Tree.List(deployment.Root, "spec.template.spec.containers.0.args").Cast<string>());
        var image = Dockerfile.Load(Path.Combine(RepoPaths.Root, "src", "Operator", "Dockerfile"));
        Assert.Equal(defaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture), image.Instructions.Single(i => i.Keyword == "EXPOSE").Arguments);
    }

    private static RootCommand Commands()
    {
        var commands = Operator.GetType("ComfyOperator.Operator.Cli.OperatorCommands", throwOnError: true)!;
        return (RootCommand)commands.GetMethod("Build", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, null)!;
    }
}
