using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Comfy.Tests.Integration;

/// <summary>
/// Where a successful prompt's outputs come from: the <c>executed</c> messages when its whole life came
/// over one connection to a server that answered the feature_flags hello, else <c>GET /history</c>
/// (docs/comfyui-protocol.md §5.6). Either way they are what the history entry lists. A dropped socket
/// (outcome from /history) is SimulatorIntegrationTests' Session_SimulatorDiesMidRun test.
/// </summary>
public sealed class SessionOutputsTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HistoryCounter _counter = new();
    private ComfyUiSimulator _sim = null!;
    private ComfyClient _client = null!;

    public async Task InitializeAsync()
    {
        _sim = await ComfyUiSimulator.StartAsync();
        _client = new ComfyClient(new HttpClient(_counter), _sim.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _sim.DisposeAsync();
    }

    /// <summary>A second output node: a preview of the same image (a temp file).</summary>
    private static JsonObject Sd15WithPreview(long seed)
    {
        var graph = SimulatorIntegrationTests.Sd15(seed, steps: 2);
        graph["10"] = new JsonObject { ["class_type"] = "PreviewImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("8", 0) } };
        return graph;
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(Deadline).Token;

    private async Task AssertSameAsHistoryAsync(ComfyPromptCompletion result)
    {
        var entry = await _client.GetHistoryAsync(result.PromptId, Timeout());
        Assert.NotNull(entry);
        Assert.Equal(entry.Outputs.Select(o => o.NodeId), result.Outputs.Select(o => o.NodeId));
        Assert.Equal(entry.Files, result.Files);
        Assert.All(result.Outputs, o => Assert.True(JsonNode.DeepEquals(entry.Outputs.Single(e => e.NodeId == o.NodeId).Raw, o.Raw)));
    }

    [Fact]
    public async Task RunPromptAsync_OneConnectionToServerWithFeatureFlags_ListsTheExecutedOutputsWithoutHistory()
    {
        await using var session = new ComfySession(_client, new ComfySessionOptions { SupportsPreviewMetadata = true });

        var fresh = await session.RunPromptAsync(Sd15WithPreview(seed: 1), cancellationToken: Timeout());
        var cached = await session.RunPromptAsync(Sd15WithPreview(seed: 1), cancellationToken: Timeout());

        Assert.Equal(0, _counter.Calls);
        foreach (var result in new[] { fresh, cached })
        {
            Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
            Assert.Null(result.History);
            Assert.Equal(["9", "10"], result.Outputs.Select(o => o.NodeId));
            await AssertSameAsHistoryAsync(result);
        }

        Assert.Equal(fresh.Files, cached.Files);
    }

    [Fact]
    public async Task RunPromptAsync_ServerBeforeFeatureFlags_GetsTheOutputsFromHistory()
    {
        _sim.Options.Version = "0.3.40";
        await using var session = new ComfySession(_client, new ComfySessionOptions { SupportsPreviewMetadata = true, FeatureFlagsReplyTimeout = TimeSpan.FromMilliseconds(300) });

        var result = await session.RunPromptAsync(SimulatorIntegrationTests.Sd15(seed: 2, steps: 2), cancellationToken: Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.Equal(1, _counter.Calls);
        Assert.NotNull(result.History);
        await AssertSameAsHistoryAsync(result);
    }

    [Fact]
    public async Task RunPromptAsync_NoHelloSent_GetsTheOutputsFromHistory()
    {
        await using var session = new ComfySession(_client);

        var result = await session.RunPromptAsync(SimulatorIntegrationTests.Sd15(seed: 3, steps: 2), cancellationToken: Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.Equal(1, _counter.Calls);
        Assert.NotNull(result.History);
    }

    /// <summary>Counts the worker's <c>GET /history/{id}</c> calls the session makes.</summary>
    private sealed class HistoryCounter() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.StartsWith("/history/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _calls);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
