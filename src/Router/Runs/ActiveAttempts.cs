using System.Collections.Concurrent;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// How a cancel reaches the attempt that has a run on a worker: the dispatcher registers each
/// attempt while it runs; <see cref="RunService.CancelAsync"/> asks here. Shared by both, so neither
/// is wired to the other at start.
/// </summary>
internal sealed class ActiveAttempts
{
    private readonly ConcurrentDictionary<string, Action> _cancels = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="cancel"/> reachable for <paramref name="runId"/> until the returned handle is disposed.</summary>
    public IDisposable Register(string runId, Action cancel)
    {
        _cancels[runId] = cancel;
        return new Registration(this, runId, cancel);
    }

    public void RequestCancel(string runId)
    {
        if (_cancels.TryGetValue(runId, out var cancel))
        {
            cancel();
        }
    }

    private sealed class Registration(ActiveAttempts owner, string runId, Action cancel) : IDisposable
    {
        public void Dispose() => owner._cancels.TryRemove(new KeyValuePair<string, Action>(runId, cancel));
    }
}
