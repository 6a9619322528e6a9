using System.Collections.Concurrent;
using System.Threading.Channels;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// Live fan-out of run events to SSE subscribers and to the observers (metrics, webhooks, ComfyUI's
/// <c>/ws</c>); with active/active replicas also of the events the other replicas write, to the SSE
/// subscribers and the <see cref="IRelayedRunObserver"/>s. History lives in the store; this only carries
/// what happens next.
/// </summary>
internal sealed class RunEventHub(IEnumerable<IRunEventObserver> observers, IEnumerable<IRelayedRunObserver> relayedObservers)
{
    private readonly IRunEventObserver[] _observers = [.. observers];
    private readonly IRelayedRunObserver[] _relayedObservers = [.. relayedObservers];
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _subscribers = new(StringComparer.Ordinal);

    public RunEventSubscription Subscribe(string runId)
    {
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(1024)
        {
            // A reader that falls this far behind loses the oldest progress; the final event still arrives.
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        _subscribers.AddOrUpdate(runId, _ => new ImmutableSubscribers([channel]), (_, existing) => new ImmutableSubscribers([.. existing.Channels, channel]));
        return new RunEventSubscription(channel.Reader, () => Remove(runId, channel));
    }

    /// <summary>Publishes <paramref name="runEvent"/>, which moved <paramref name="run"/> to the state it is in now.</summary>
    public void Publish(RunRecord run, RunEvent runEvent)
    {
        foreach (var observer in _observers)
        {
            observer.OnEvent(run, runEvent);
        }

        if (_subscribers.TryGetValue(runEvent.RunId, out var subscribers))
        {
            foreach (var channel in subscribers.Channels)
            {
                channel.Writer.TryWrite(runEvent);
            }
        }
    }

    /// <summary>Someone on this router follows <paramref name="runId"/> live: an SSE subscriber or a relayed-run observer.</summary>
    public bool HasSubscribers(string runId)
    {
        if (_subscribers.ContainsKey(runId))
        {
            return true;
        }

        foreach (var observer in _relayedObservers)
        {
            if (observer.Follows(runId))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The runs someone on this router follows live now.</summary>
    public IReadOnlyList<string> SubscribedRunIds() =>
        [.. _subscribers.Keys.Concat(_relayedObservers.SelectMany(o => o.FollowedRunIds())).Distinct(StringComparer.Ordinal)];

    /// <summary>A run as stored, read by <see cref="Storage.Postgres.PostgresReplicaFeed"/>, for the relayed-run observers (<see cref="IRelayedRunObserver.OnStoredRun"/>).</summary>
    public void Read(RunRecord run, long handledThrough)
    {
        foreach (var observer in _relayedObservers)
        {
            observer.OnStoredRun(run, handledThrough);
        }
    }

    /// <summary>
    /// An event another replica wrote (<see cref="Storage.Postgres.PostgresReplicaFeed"/>), for this router's subscribers
    /// and relayed-run observers only: the observers (metrics, webhooks) saw it on the replica that wrote it, so counting
    /// or sending it here would do it twice. Subscribers skip events they already have.
    /// </summary>
    public void Forward(RunEvent runEvent)
    {
        foreach (var observer in _relayedObservers)
        {
            observer.OnRelayed(runEvent);
        }

        if (_subscribers.TryGetValue(runEvent.RunId, out var subscribers))
        {
            foreach (var channel in subscribers.Channels)
            {
                channel.Writer.TryWrite(runEvent);
            }
        }
    }

    private void Remove(string runId, Channel<RunEvent> channel)
    {
        while (_subscribers.TryGetValue(runId, out var existing))
        {
            var remaining = existing.Channels.Where(c => c != channel).ToArray();
            var done = remaining.Length == 0
                ? _subscribers.TryRemove(new KeyValuePair<string, ImmutableSubscribers>(runId, existing))
                : _subscribers.TryUpdate(runId, new ImmutableSubscribers(remaining), existing);
            if (done)
            {
                break;
            }
        }

        channel.Writer.TryComplete();
    }

    private sealed record ImmutableSubscribers(Channel<RunEvent>[] Channels);
}
