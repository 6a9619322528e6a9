using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// A ComfyUI client hears its prompt's end when the worker ends it, while the router still copies the outputs:
/// the workers hold every <c>GET /view</c> here, so the router's copy waits until the test lets it go.
/// </summary>
public sealed class ComfyPromptEndTests
{
    private static async Task<SimulatedCluster> StartHoldingViewsAsync()
    {
        var cluster = await SimulatedCluster.StartAsync(1);
        cluster.Workers[0].HoldViews();
        return cluster;
    }

    /// <summary>Queues a prompt for <paramref name="ws"/>'s client and waits for its end; returns its id and the file its <c>executed</c> named.</summary>
    private static async Task<(string PromptId, JsonObject Image)> RunUntilTheEndAsync(SimulatedCluster cluster, ComfyWsClient ws)
    {
        var promptId = await ComfyApiTests.QueuePromptAsync(cluster.Client, Graphs.Sd15("held outputs", 2), ws.ClientId);
        await ws.WaitForDoneAsync(promptId);
        var executed = await ws.WaitForAsync("executed", d => d["prompt_id"]!.GetValue<string>() == promptId);
        await ws.WaitForAsync("execution_success", d => d["prompt_id"]!.GetValue<string>() == promptId);
        var image = executed.Data!["output"]!["images"]![0]!.AsObject();
        Assert.Equal(promptId, image["subfolder"]!.GetValue<string>());
        return (promptId, image);
    }

    [Fact]
    public async Task End_WorkerEndedThePrompt_SentBeforeTheOutputsAreStored_HistoryAndViewWaitForThem()
    {
        await using var cluster = await StartHoldingViewsAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "early-end");

        var (promptId, image) = await RunUntilTheEndAsync(cluster, ws);

        // The outputs cannot have been copied yet: the end came from the worker, not from the run's end.
        Assert.Equal("running", (await cluster.GetRunAsync(promptId)).GetProperty("status").GetString());

        // Like ComfyUI, the prompt has left the queue at its end.
        var queue = await cluster.Client.GetFromJsonAsync<JsonObject>("/queue");
        Assert.Empty(queue!["queue_running"]!.AsArray());
        Assert.Empty(queue["queue_pending"]!.AsArray());
        var prompt = await cluster.Client.GetFromJsonAsync<JsonObject>("/prompt");
        Assert.Equal(0, prompt!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        await ws.WaitForAsync("status", d => d["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>() == 0);

        // What the client reads on that end waits for the outputs instead of finding nothing.
        var history = cluster.Client.GetFromJsonAsync<JsonObject>($"/history/{promptId}");
        var all = cluster.Client.GetFromJsonAsync<JsonObject>("/history");
        var view = cluster.Client.GetByteArrayAsync($"/view?filename={Uri.EscapeDataString(image["filename"]!.GetValue<string>())}&subfolder={promptId}&type=output");
        var answered = Task.WhenAny(history, all, view);
        Assert.NotSame(answered, await Task.WhenAny(answered, Task.Delay(TimeSpan.FromMilliseconds(300))));
        cluster.Workers[0].ReleaseViews();

        var entry = (await history)![promptId]!;
        Assert.Equal("success", entry["status"]!["status_str"]!.GetValue<string>());
        var listed = Assert.Single(entry["outputs"]!.AsObject().SelectMany(o => o.Value!["images"]!.AsArray()))!;
        Assert.Equal(image["filename"]!.GetValue<string>(), listed["filename"]!.GetValue<string>());
        Assert.True((await all)!.ContainsKey(promptId));
        Assert.Equal(ComfyApiTests.PngSignature, (await view)[..4]);
        Assert.Equal("succeeded", (await cluster.GetRunAsync(promptId)).GetProperty("status").GetString());

        // The run's own end sends nothing more.
        Assert.Single(ws.Messages, m => m.Type == "executing" && m.Data!["node"] is null && m.Data["prompt_id"]!.GetValue<string>() == promptId);
    }

    [Fact]
    public async Task End_OutputsCannotBeStoredAfterIt_HistorySaysErrorWithTheReason()
    {
        await using var cluster = await StartHoldingViewsAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "early-end-failing");
        var (promptId, _) = await RunUntilTheEndAsync(cluster, ws);

        // The router's copy must be waiting on the worker: released before it asked, the file would still be there.
        await cluster.Workers[0].ViewHeldAsync().WaitAsync(TimeSpan.FromSeconds(30));
        cluster.Workers[0].ReleaseViews(asGone: true);

        var entry = (await cluster.Client.GetFromJsonAsync<JsonObject>($"/history/{promptId}"))![promptId]!;
        Assert.Equal("error", entry["status"]!["status_str"]!.GetValue<string>());
        var error = entry["status"]!["messages"]!.AsArray().Select(m => m!.AsArray()).Single(m => m[0]!.GetValue<string>() == "execution_error")[1]!;
        Assert.Contains("Could not fetch output", error["exception_message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("failed", (await cluster.GetRunAsync(promptId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task End_RouterRestartsBeforeTheOutputsAreStored_RunSucceedsOnceWithThem()
    {
        await using var cluster = await StartHoldingViewsAsync();
        string promptId;
        await using (var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "early-end-restart"))
        {
            (promptId, _) = await RunUntilTheEndAsync(cluster, ws);
        }

        await cluster.RestartRouterAsync(whileStopped: () => cluster.Workers[0].ReleaseViews());

        var run = await cluster.WaitForStatusAsync(promptId, "succeeded");
        Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        Assert.Equal(1, cluster.Workers[0].PromptsExecuted);
        Assert.Equal(ComfyApiTests.PngSignature, (await ComfyApiTests.FirstImageAsync(cluster.Client, promptId))[..4]);
    }

    [Fact]
    public async Task ExecutionStart_ClientToldIt_FindsTheRunRunning()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(200));
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "started");
        var promptId = await ComfyApiTests.QueuePromptAsync(cluster.Client, Graphs.Sd15("started", 6), ws.ClientId);

        await ws.WaitForAsync("execution_start", d => d["prompt_id"]!.GetValue<string>() == promptId);

        var queue = await cluster.Client.GetFromJsonAsync<JsonObject>("/queue");
        Assert.Equal(promptId, Assert.Single(queue!["queue_running"]!.AsArray())![1]!.GetValue<string>());
        Assert.Equal("running", (await cluster.GetRunAsync(promptId)).GetProperty("status").GetString());
        await ws.WaitForDoneAsync(promptId);
    }
}
