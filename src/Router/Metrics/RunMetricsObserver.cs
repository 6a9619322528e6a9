using System.Collections.Concurrent;
using System.Text.Json;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Metrics;

/// <summary>
/// Turns the run event stream into metrics: every state change already flows through
/// <see cref="RunEventHub"/>, so the run service needs no metrics calls of its own.
/// </summary>
internal sealed class RunMetricsObserver(RouterMetrics metrics) : IRunEventObserver
{
    /// <summary>Label for runs submitted as a raw graph; runs of a named workflow (WorkflowDeployment or preset) carry its name.</summary>
    public const string AdhocWorkflow = "adhoc";

    private readonly ConcurrentDictionary<string, Track> _runs = new(StringComparer.Ordinal);

    void IRunEventObserver.OnEvent(RunRecord run, RunEvent runEvent) => OnEvent(runEvent, run.Deployment ?? AdhocWorkflow);

    public void OnEvent(RunEvent runEvent, string workflow = AdhocWorkflow)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        switch (runEvent.Type)
        {
            case RunEventTypes.Queued:
                _runs[runEvent.RunId] = new Track(workflow, ReadInt(runEvent.Data, "priority"), runEvent.At);
                metrics.RunSubmitted(workflow);
                break;
            case RunEventTypes.Requeued:
                {
                    var track = Get(runEvent);
                    track.Queued = true;
                    track.QueuedAt = runEvent.At;
                    track.DispatchedAt = null;
                    track.SawProgress = false;
                    metrics.RunRetried(track.Workflow);
                    break;
                }

            case RunEventTypes.Dispatching:
                {
                    var track = Get(runEvent);
                    track.Queued = false;
                    track.DispatchedAt = runEvent.At;
                    metrics.RunDispatched(track.Workflow, WorkerLabel(ReadString(runEvent.Data, "worker")), runEvent.At - track.QueuedAt);
                    break;
                }

            case RunEventTypes.Progress:
                {
                    var track = Get(runEvent);
                    if (!track.SawProgress && track.DispatchedAt is { } dispatched)
                    {
                        track.SawProgress = true;
                        metrics.FirstProgress(track.Workflow, runEvent.At - dispatched);
                    }

                    break;
                }

            case RunEventTypes.Succeeded or RunEventTypes.Failed or RunEventTypes.Cancelled:
                {
                    var track = _runs.TryRemove(runEvent.RunId, out var known) ? known : new Track(AdhocWorkflow, 0, runEvent.At) { Queued = false };
                    metrics.RunFinished(track.Workflow, runEvent.Type, runEvent.At - track.DispatchedAt);
                    break;
                }
        }
    }

    /// <summary>Queued runs grouped by workflow and priority, for the queue depth gauge.</summary>
    public IEnumerable<(string Workflow, int Priority, int Count)> QueueDepth() =>
        _runs.Values.Where(static t => t.Queued)
            .GroupBy(static t => (t.Workflow, t.Priority))
            .Select(static g => (g.Key.Workflow, g.Key.Priority, g.Count()));

    private Track Get(RunEvent runEvent) =>
        _runs.GetOrAdd(runEvent.RunId, static (_, at) => new Track(AdhocWorkflow, 0, at) { Queued = false }, runEvent.At);

    /// <summary>The same worker label as the worker state gauge: scheme, host and port.</summary>
    private static string WorkerLabel(string? address) =>
        address is null ? "unknown" : Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : address;

    private static int ReadInt(string json, string property)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty(property, out var value) && value.TryGetInt32(out var number) ? number : 0;
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    private static string? ReadString(string json, string property)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class Track(string workflow, int priority, DateTimeOffset queuedAt)
    {
        public string Workflow { get; } = workflow;

        public int Priority { get; } = priority;

        public DateTimeOffset QueuedAt { get; set; } = queuedAt;

        public DateTimeOffset? DispatchedAt { get; set; }

        public bool Queued { get; set; } = true;

        public bool SawProgress { get; set; }
    }
}
