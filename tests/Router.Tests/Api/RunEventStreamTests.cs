using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>The SSE stream of runs that are really executing on a worker.</summary>
public sealed class RunEventStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Events_LastEventIdOnLiveRun_ReplaysMissedThenLiveWithoutGapsOrDuplicates()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50));
        // Long enough to be still running at the resume however slow the machine; sped up after.
        var id = await cluster.SubmitAsync(steps: 400);
        using var timeout = new CancellationTokenSource(Timeout);

        // A first subscriber sees the run get past event 3 (queued, dispatching, started, ...), then drops.
        using (var first = await OpenAsync(cluster.Client, id, null, timeout.Token))
        {
            while (await first.Sse.NextAsync(timeout.Token) is { } message && Sequence(message) < 3)
            {
            }
        }

        using var resumed = await OpenAsync(cluster.Client, id, "2", timeout.Token);
        var statusAtResume = (await cluster.GetRunAsync(id)).GetProperty("status").GetString();
        cluster.Workers[0].Options.StepDelay = TimeSpan.Zero;
        var events = await resumed.Sse.ReadToEndAsync(timeout.Token);
        var everything = await ReadAllAsync(cluster.Client, id, timeout.Token);

        Assert.Equal("running", statusAtResume);
        Assert.DoesNotContain(events, e => e.Type == "state");
        var ids = events.Select(Sequence).ToList();
        Assert.Equal(3, ids[0]);
        Assert.Equal(Enumerable.Range(3, ids.Count).Select(i => (long)i), ids);
        Assert.Equal("succeeded", events[^1].Type);
        Assert.Equal(everything.Where(e => Sequence(e) > 2).Select(e => (e.Id, e.Type, e.Data)), events.Select(e => (e.Id, e.Type, e.Data)));
        Assert.Contains(events, e => e.Type == "progress");
    }

    [Fact]
    public async Task Events_LastEventIdOfAProgressEvent_ReplaysWhatFollowsToTheOutcome()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50));
        using var timeout = new CancellationTokenSource(Timeout);

        // Progress is written with the run's next write, so the resume starts from an event published and not yet stored.
        var (id, progress) = await SubmitAndSeeProgressAsync(cluster, timeout.Token);
        using var resumed = await OpenAsync(cluster.Client, id, progress.ToString(CultureInfo.InvariantCulture), timeout.Token);
        cluster.Workers[0].Options.StepDelay = TimeSpan.Zero;
        var events = await resumed.Sse.ReadToEndAsync(timeout.Token);
        var everything = await ReadAllAsync(cluster.Client, id, timeout.Token);

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => progress + i), events.Select(Sequence));
        Assert.Equal("succeeded", events[^1].Type);
        Assert.Equal(everything.Where(e => Sequence(e) > progress).Select(e => (e.Id, e.Type, e.Data)), events.Select(e => (e.Id, e.Type, e.Data)));
        Assert.Contains(everything, e => Sequence(e) == progress && e.Type == "progress");
    }

    [Fact]
    public async Task Events_AnotherRouterEndsARunWhoseProgressItDidNotSee_ResumingFromThatProgressGetsTheEnd()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50));
        using var timeout = new CancellationTokenSource(Timeout);
        var (id, progress) = await SubmitAndSeeProgressAsync(cluster, timeout.Token);

        // A router that did not publish the run's progress (this one after a crash, another replica) ends the run.
        using (var other = ActivatorUtilities.CreateInstance<RunService>(cluster.Router.Services))
        {
            var cancelled = await other.MarkCancelledAsync(id, null, "ended by another router", timeout.Token);
            Assert.True(cancelled!.LastEventSequence > progress, $"the end ({cancelled.LastEventSequence}) is numbered after the progress published ({progress})");
        }

        using var resumed = await OpenAsync(cluster.Client, id, progress.ToString(CultureInfo.InvariantCulture), timeout.Token);
        var events = await resumed.Sse.ReadToEndAsync(timeout.Token);
        Assert.Equal("cancelled", events[^1].Type);
        Assert.Equal(events.Select(Sequence).Order(), events.Select(Sequence));
    }

    [Fact]
    public async Task Events_WorkerSendsPreviews_StreamHasPreviewEventLinkingTheImage()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o =>
        {
            o.PreviewMethod = "auto";
            o.StepDelay = TimeSpan.FromMilliseconds(50);
        });
        var id = await cluster.SubmitAsync(steps: 20);
        using var timeout = new CancellationTokenSource(Timeout);
        using var stream = await OpenAsync(cluster.Client, id, null, timeout.Token);

        SseMessage? preview = null;
        byte[]? image = null;
        string? contentType = null;
        while (await stream.Sse.NextAsync(timeout.Token) is { } message)
        {
            if (message.Type == "preview" && preview is null)
            {
                preview = message;
                var url = JsonDocument.Parse(message.Data).RootElement.GetProperty("url").GetString();
                Assert.Equal($"/v1/runs/{id}/preview", url);
                using var response = await cluster.Client.GetAsync(url, timeout.Token);
                response.EnsureSuccessStatusCode();
                contentType = response.Content.Headers.ContentType?.MediaType;
                image = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            }
        }

        Assert.NotNull(preview);
        Assert.StartsWith("image/", contentType, StringComparison.Ordinal);
        Assert.NotEmpty(image!);
        Assert.Equal("succeeded", (await cluster.GetRunAsync(id)).GetProperty("status").GetString());
    }

    /// <summary>Submits a long run and follows its events until the first progress event: the run's id and that event's id.</summary>
    private static async Task<(string Id, long Progress)> SubmitAndSeeProgressAsync(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        var id = await cluster.SubmitAsync(steps: 400);
        using var stream = await OpenAsync(cluster.Client, id, null, cancellationToken);
        while (await stream.Sse.NextAsync(cancellationToken) is { } message)
        {
            if (message.Type == "progress")
            {
                return (id, Sequence(message));
            }
        }

        throw new InvalidOperationException("The stream ended before a progress event.");
    }

    private static long Sequence(SseMessage message) => long.Parse(message.Id!, CultureInfo.InvariantCulture);

    private static async Task<List<SseMessage>> ReadAllAsync(HttpClient client, string id, CancellationToken cancellationToken)
    {
        using var stream = await OpenAsync(client, id, "0", cancellationToken);
        return await stream.Sse.ReadToEndAsync(cancellationToken);
    }

    private static async Task<OpenStream> OpenAsync(HttpClient client, string id, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        return new OpenStream(response, new SseClient(await response.Content.ReadAsStreamAsync(cancellationToken)));
    }

    private sealed record OpenStream(HttpResponseMessage Response, SseClient Sse) : IDisposable
    {
        public void Dispose()
        {
            Sse.Dispose();
            Response.Dispose();
        }
    }
}
