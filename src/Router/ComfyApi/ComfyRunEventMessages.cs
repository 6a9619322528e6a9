using System.Text.Json;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// The worker messages of a prompt that another router replica drives, rebuilt from the run events that
/// replica writes (this one has no connection to that worker): <c>started</c> is <c>execution_start</c>;
/// <c>progress</c> is <c>executing</c> when its node changes, then <c>progress_state</c> (the nodes seen so
/// far) and <c>progress</c>; <c>succeeded</c> is one <c>executed</c> per node with stored outputs, named as
/// <c>/history</c> names them. They go through the same mapping as the worker's own
/// (<see cref="ComfyMessages.From"/>); the end of the prompt is the run's end, as for every prompt with replicas. Run events do
/// not carry previews, <c>execution_cached</c> nor nodes without progress, so neither do these.
/// </summary>
internal sealed class ComfyRunEventMessages
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, ComfyNodeProgress> _nodes = new(StringComparer.Ordinal);
    private string? _current;

    /// <summary>The messages <paramref name="runEvent"/> stands for (none for events that are not the worker's).</summary>
    public IReadOnlyList<ComfyEvent> From(RunEvent runEvent, string runId)
    {
        switch (runEvent.Type)
        {
            case RunEventTypes.Requeued:
                // The next attempt starts from nothing, on whichever worker.
                _nodes.Clear();
                _current = null;
                return [];
            case RunEventTypes.Started:
                return [new ComfyExecutionStartEvent(runEvent.At.ToUnixTimeMilliseconds())];
            case RunEventTypes.Progress when Read<ProgressData>(runEvent) is { Node: { } node } progress:
                return Progress(node, progress.Value, progress.Max);
            case RunEventTypes.Succeeded when Read<SucceededData>(runEvent) is { Outputs: { } outputs }:
                Finish();
                return [.. ComfyHistory.Outputs(runId, outputs).Select(o => (ComfyEvent)new ComfyExecutedEvent(o.NodeId, o.NodeId, o.Output, []))];
            default:
                return [];
        }
    }

    /// <summary>The run's failure as its <c>failed</c> event carries it.</summary>
    public static RunFailure? FailureOf(RunEvent runEvent) => Read<RunFailure>(runEvent);

    private List<ComfyEvent> Progress(string node, double value, double max)
    {
        var messages = new List<ComfyEvent>(3);
        if (node != _current)
        {
            Finish();
            _current = node;
            messages.Add(new ComfyExecutingEvent(node, node));
        }

        _nodes[node] = new ComfyNodeProgress(node, value, max, "running", node, null, node);
        messages.Add(new ComfyProgressStateEvent(new Dictionary<string, ComfyNodeProgress>(_nodes, StringComparer.Ordinal)));
        messages.Add(new ComfyProgressEvent(value, max, node));
        return messages;
    }

    private void Finish()
    {
        if (_current is not null && _nodes.TryGetValue(_current, out var last))
        {
            _nodes[_current] = last with { Value = last.Max, State = "finished" };
        }
    }

    private static T? Read<T>(RunEvent runEvent)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(runEvent.Data, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record ProgressData(string? Node, double Value, double Max);

    private sealed record SucceededData(IReadOnlyList<RunOutput>? Outputs);
}
