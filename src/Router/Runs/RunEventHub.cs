using System.Collections.Concurrent;
using System.Threading.Channels;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// Live fan-out of run events to SSE subscribers and to the observers (metrics, webhooks). History
/// lives in the store; this only carries what happens next.
/// </summary>
internal sealed class RunEventHub(IEnumerable<IRunEventObserver> observers)
{
    private readonly IRunEventObserver[] _observers = [.. observers];
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

    /// <summary>Someone on this router follows <paramref name="runId"/> live.</summary>
    public bool HasSubscribers(string runId) => _subscribers.ContainsKey(runId);

    /// <summary>The runs someone on this router follows live now.</summary>
    public IReadOnlyList<string> SubscribedRunIds() => [.. _subscribers.Keys];

    /// <summary>
    /// An event another replica wrote (<see cref="Storage.Postgres.PostgresReplicaFeed"/>), for this router's subscribers only:
    /// the observers (metrics, webhooks) saw it on the replica that wrote it, so counting or sending it here
    /// would do it twice. Subscribers skip events they already have.
    /// </summary>
    public void Forward(RunEvent runEvent)
    {
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
