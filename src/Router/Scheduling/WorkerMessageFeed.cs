using System.Collections.Concurrent;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// The worker's own messages about a run (ComfyUI's <c>execution_*</c>, <c>executing</c>, progress,
/// <c>executed</c>, previews), as its attempt reads them, for a front door that passes them on to its
/// client (ComfyUI's <c>/ws</c>). Only runs someone listens to are passed on: for every other run an
/// event costs one dictionary look-up.
/// </summary>
internal sealed class WorkerMessageFeed
{
    private readonly ConcurrentDictionary<string, Action<ComfyEvent>> _listeners = new(StringComparer.Ordinal);

    /// <summary>Sends the messages of run <paramref name="runId"/> to <paramref name="listener"/> (quick, must not throw) until the handle is disposed.</summary>
    public IDisposable Listen(string runId, Action<ComfyEvent> listener)
    {
        _listeners[runId] = listener;
        return new Registration(this, runId, listener);
    }

    public void Publish(string runId, ComfyEvent message)
    {
        if (!_listeners.IsEmpty && _listeners.TryGetValue(runId, out var listener))
        {
            listener(message);
        }
    }

    private sealed class Registration(WorkerMessageFeed feed, string runId, Action<ComfyEvent> listener) : IDisposable
    {
        public void Dispose() => feed._listeners.TryRemove(new KeyValuePair<string, Action<ComfyEvent>>(runId, listener));
    }
}
