using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// A ComfyUI script in Python (Debian's <c>python3-websocket</c>, written like ComfyUI's
/// websockets_api_example.py) against the router on a real port, with two simulated workers.
/// </summary>
public sealed class PythonClientTests
{
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task WebSocketsApiExample_AgainstTheRouter_GetsItsImages()
    {
        await using var router = await ClientProgramRouter.StartAsync();
        var graphFile = await router.WriteGraphAsync(Graphs.Sd15("from python", 2));

        var (exitCode, output, error) = await ClientProgramRouter.RunAsync(
            Python, Path.Combine(AppContext.BaseDirectory, "ComfyApi", "websockets_api_client.py"), router.Authority, RouterFactory.ApiKey, graphFile);

        Assert.True(exitCode == 0, $"python exited {exitCode}: {error}");
        var summary = JsonNode.Parse(output)!;
        var promptId = summary["prompt_id"]!.GetValue<string>();
        Assert.Equal(promptId, summary["answered_prompt_id"]!.GetValue<string>());
        Assert.Equal([promptId], summary["prompt_ids_seen"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(1, summary["images"]!.GetValue<int>());
        Assert.True(summary["png"]!.GetValue<bool>());
    }
}
