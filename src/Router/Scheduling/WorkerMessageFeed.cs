using System.Collections.Concurrent;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// The worker's own messages about a run (ComfyUI's <c>execution_*</c>, <c>executing</c>, progress,
/// <c>executed</c>, previews), as its attempt reads them, and the prompt's successful end on its worker
/// (before the attempt copies the outputs and writes the run's end), for a front door that passes them on to
/// its client (ComfyUI's <c>/ws</c>). Only runs someone listens to are passed on: for every other run an
/// event costs one dictionary look-up.
/// </summary>
internal sealed class WorkerMessageFeed
{
    private readonly ConcurrentDictionary<string, Listener> _listeners = new(StringComparer.Ordinal);

    /// <summary>
    /// Sends the messages of run <paramref name="runId"/> to <paramref name="message"/>, and its end on the worker to
    /// <paramref name="succeeded"/> (both quick, must not throw), until the handle is disposed.
    /// </summary>
    public IDisposable Listen(string runId, Action<ComfyEvent> message, Action<IReadOnlyList<(string NodeId, ComfyFileRef File)>> succeeded)
    {
        var listener = new Listener(message, succeeded);
        _listeners[runId] = listener;
        return new Registration(this, runId, listener);
    }

    /// <summary>Whether someone listens to run <paramref name="runId"/>'s messages (so what only they need is made only then).</summary>
    public bool Listens(string runId) => !_listeners.IsEmpty && _listeners.ContainsKey(runId);

    public void Publish(string runId, ComfyEvent message)
    {
        if (!_listeners.IsEmpty && _listeners.TryGetValue(runId, out var listener))
        {
            listener.Message(message);
        }
    }

    /// <summary>The worker ended run <paramref name="runId"/>'s prompt with success; <paramref name="outputs"/> are the files the run is to record.</summary>
    public void PublishSucceeded(string runId, IReadOnlyList<(string NodeId, ComfyFileRef File)> outputs)
    {
        if (!_listeners.IsEmpty && _listeners.TryGetValue(runId, out var listener))
        {
            listener.Succeeded(outputs);
        }
    }

    private sealed record Listener(Action<ComfyEvent> Message, Action<IReadOnlyList<(string NodeId, ComfyFileRef File)>> Succeeded);

    private sealed class Registration(WorkerMessageFeed feed, string runId, Listener listener) : IDisposable
    {
        public void Dispose() => feed._listeners.TryRemove(new KeyValuePair<string, Listener>(runId, listener));
    }
}
