using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// A third-party ComfyUI client library, npm's <c>@saintno/comfyui-sdk</c> (pinned in
/// tests/Testing/ComfyClients, installed by scripts/install-test-deps.sh), used as its README shows
/// against the router on a real port with two simulated workers.
/// </summary>
public sealed class ComfyUiSdkClientTests
{
    [Fact]
    public async Task ComfyUiSdk_AgainstTheRouter_ListsTheFleetQueuesFollowsAndDownloads()
    {
        var script = ClientScript("comfyui-sdk-client.mjs", "@saintno/comfyui-sdk");
        await using var router = await ClientProgramRouter.StartAsync();
        var graphFile = await router.WriteGraphAsync(Graphs.Sd15("from node", 2));

        var (exitCode, output, error) = await ClientProgramRouter.RunAsync("node", script, $"http://{router.Authority}", RouterFactory.ApiKey, graphFile);

        Assert.True(exitCode == 0, $"node exited {exitCode}: {error}\n{output}");
        var summary = JsonNode.Parse(output)!;
        Assert.True(summary["failure"] is null, $"the library reported {summary["failure"]}");
        Assert.False(summary["authFailed"]!.GetValue<bool>(), output);
        Assert.True(summary["hasKSampler"]!.GetValue<bool>(), output);
        Assert.Contains("v1-5-pruned-emaonly.safetensors", Strings(summary["checkpoints"]));
        Assert.Contains("euler", Strings(summary["samplers"]));
        Assert.Contains("checkpoints", Strings(summary["modelTypes"]));
        Assert.Contains("v1-5-pruned-emaonly.safetensors", Strings(summary["checkpointFiles"]));
        Assert.Contains("checkpoints", Strings(summary["modelFolders"]));
        Assert.Contains("v1-5-pruned-emaonly.safetensors", Strings(summary["checkpointModels"]));
        Assert.Equal(1, summary["images"]!.GetValue<int>());
        Assert.Equal([true], summary["pngs"]!.AsArray().Select(p => p!.GetValue<bool>()));
        Assert.True(summary["historyCompleted"]!.GetValue<bool>(), output);
        Assert.Equal(1, summary["historyImages"]!.GetValue<int>());
        Assert.Subset(Strings(summary["messageTypes"]).ToHashSet(), new HashSet<string> { "execution_start", "executing", "executed", "execution_success" });
    }

    private static List<string> Strings(JsonNode? array) => [.. array!.AsArray().Select(s => s!.GetValue<string>())];

    /// <summary>A script in tests/Testing/ComfyClients, whose node_modules must hold <paramref name="package"/>.</summary>
    private static string ClientScript(string name, string package)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ComfyOperator.sln")))
        {
            directory = directory.Parent;
        }

        var folder = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("ComfyOperator.sln not found above " + AppContext.BaseDirectory), "tests", "Testing", "ComfyClients");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", package)))
        {
            throw new InvalidOperationException($"{package} is not installed in {folder}: run scripts/install-test-deps.sh.");
        }

        return Path.Combine(folder, name);
    }
}
