using ComfyOperator.Entities;

namespace ComfyOperator.EndToEnd.Tests.Operator;

public sealed class WorkflowDeploymentEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(40);
    private readonly OperatorEnvironment _env = new();

    public async Task InitializeAsync()
    {
        await _env.InitializeAsync();
        _env.StartOperator();
    }

    public Task DisposeAsync() => _env.DisposeAsync();

    private static string Sample(string name) => Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "samples", name);

    [Fact]
    public async Task ApplySd15Sample_OwnedNodesBecomeReady_GetShowsReadyCount()
    {
        var ns = await _env.CreateNamespaceAsync("sd15");
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", Sample("workflowdeployment-sd15.yaml"));

        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/sd15-txt2img", "{.status.phase}"), p => p == WorkflowDeploymentPhase.Ready, Timeout, "sd15 Ready");

        var table = await _env.KubectlOkAsync("get", "wfd", "-n", ns);
        Assert.Matches("NAME +PHASE +READY +DESIRED +SCALING +ENDPOINT +AGE", table.Split('\n')[0]);
        Assert.Matches(@"sd15-txt2img +Ready +2/2 +2 +(\S+ +)?/v1/workflows/sd15-txt2img/runs", table);
        var nodes = await _env.KubectlOkAsync("get", "cn", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}");
        Assert.Equal(["sd15-txt2img-0", "sd15-txt2img-1"], nodes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [Fact]
    public async Task BrokenGraph_InvalidNamingTheNode_WithWarningEvent()
    {
        var ns = await _env.CreateNamespaceAsync("broken");
        var yaml = await File.ReadAllTextAsync(Sample("workflowdeployment-sd15.yaml"));
        yaml = yaml.Replace("        positive: [\"6\", 0]", "        positive: [\"66\", 0]", StringComparison.Ordinal)
                   .Replace("    node: \"3\"\n    input: steps", "    node: \"3\"\n    input: stepz", StringComparison.Ordinal);
        var path = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, yaml);
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", path);

        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/sd15-txt2img", "{.status.phase}"), p => p == WorkflowDeploymentPhase.Invalid, Timeout, "Invalid");

        var errors = await _env.JsonPathAsync(ns, "wfd/sd15-txt2img", "{.status.validationErrors}");
        Assert.Contains("\"node\":\"3\"", errors, StringComparison.Ordinal);
        Assert.Contains("\"field\":\"positive\"", errors, StringComparison.Ordinal);
        Assert.Contains("\"field\":\"stepz\"", errors, StringComparison.Ordinal);
        var message = await _env.JsonPathAsync(ns, "wfd/sd15-txt2img", "{.status.conditions[?(@.type==\"WorkflowValid\")].message}");
        Assert.Contains("links to node #66", message, StringComparison.Ordinal);
        var events = await _env.KubectlOkAsync("get", "events", "-n", ns, "-o", "jsonpath={.items[*].reason}");
        Assert.Contains(EventReasons.WorkflowInvalid, events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KubectlScale_OneThreeOne_NodesFollow()
    {
        var ns = await _env.CreateNamespaceAsync("scale");
        var path = Path.Combine(Path.GetTempPath(), $"scale-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, """
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata:
              name: w
            spec:
              replicas: 1
              template:
                image: comfyui:test
              workflow:
                "1": {class_type: EmptyImage, inputs: {width: 64, height: 64, batch_size: 1, color: 0}}
                "2": {class_type: SaveImage, inputs: {filename_prefix: w, images: ["1", 0]}}
            """);
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", path);
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/w", "{.status.readyText}"), t => t == "1/1", Timeout, "1/1");

        await _env.KubectlOkAsync("scale", "wfd/w", "-n", ns, "--replicas=3");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/w", "{.status.readyText}"), t => t == "3/3", Timeout, "3/3");
        Assert.Equal(3, (await _env.JsonPathAsync(ns, "pods", "{.items[*].metadata.name}")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

        await _env.KubectlOkAsync("scale", "wfd/w", "-n", ns, "--replicas=1");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/w", "{.status.readyText}"), t => t == "1/1", Timeout, "back to 1/1");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn", "{.items[*].metadata.name}"), n => n.Trim() == "w-0", Timeout, "only w-0 left");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "pods", "{.items[*].metadata.name}"), n => n.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 1, Timeout, "one pod left");
    }
}
