using System.Globalization;
using System.Threading.Channels;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// What the other active/active replicas write, heard on one connection that <c>LISTEN</c>s to their
/// run events (<see cref="PostgresReplicaNotifier"/>) and to the cancel requests a trigger announces
/// (<see cref="PostgresMigrations.ReplicaCoordination"/>):
/// <list type="bullet">
/// <item>a run queued or requeued elsewhere enters this replica's dispatch queue, one claimed, cancelled or
/// finished elsewhere leaves it (the claim itself is the store's compare-and-set, so a stale queue entry
/// costs a failed claim, never a second dispatch); a claim elsewhere also moves its owner's fair-share clock
/// here (<see cref="IRunQueue.ClaimedElsewhere"/>);</item>
/// <item>a run event reaches this replica's SSE subscribers of that run and its relayed-run observers
/// (ComfyUI's <c>/ws</c>: read from the store, only when someone here follows the run; progress and previews,
/// which the replica that publishes them writes later, come with their data in the notification);</item>
/// <item>a cancel request stored elsewhere reaches the attempt here that has the run on a worker.</item>
/// </list>
/// Notifications are lost while the connection is down (and with a replica that died between its write
/// and its notification), so after every (re)connect, and every <see cref="ResyncInterval"/> as well, the
/// queue is reconciled with the queued runs as stored and this replica's subscribers are handed the
/// stored events of the runs they follow (they skip those they have).
/// </summary>
internal sealed partial class PostgresReplicaFeed(
    PostgresRouterDatabase database,
    IRunStore store,
    RunService runs,
    IRunQueue queue,
    RunEventHub hub,
    ActiveAttempts attempts,
    TimeProvider time,
    ILogger<PostgresReplicaFeed> logger) : BackgroundService
{
    internal const string EventsChannel = "comfy_run_events";

    internal const string CancelsChannel = "comfy_run_cancels";

    internal static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<(string Channel, string Payload)> _heard = Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var handling = Task.Run(() => HandleAsync(stoppingToken), CancellationToken.None);
        var resyncing = Task.Run(() => ResyncPeriodicallyAsync(stoppingToken), CancellationToken.None);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is StorageException or NpgsqlException or InvalidOperationException or OperationCanceledException)
            {
                LogFailed(ex);
            }

            try
            {
                await Task.Delay(ReconnectDelay, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        _heard.Writer.TryComplete();
        await handling;
        await resyncing;
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await database.OpenLeaseConnectionAsync(stoppingToken);
        connection.Notification += (_, e) => _heard.Writer.TryWrite((e.Channel, e.Payload));
        await using (var listen = new NpgsqlCommand($"LISTEN {EventsChannel}; LISTEN {CancelsChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        LogListening();

        // Whatever was written while nobody here listened.
        await ResyncAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            await connection.WaitAsync(stoppingToken);
        }
    }

    private async Task HandleAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (channel, payload) in _heard.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await HandleAsync(channel, payload, stoppingToken);
                }
                catch (StorageException ex)
                {
                    // The periodic resync puts the queue right; a subscriber that missed an event fetches it on the next one.
                    LogFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task HandleAsync(string channel, string payload, CancellationToken cancellationToken)
    {
        // The owner, last, may hold spaces (a Basic user's name).
        var parts = payload.Split(' ', 5);
        if (parts.Length < 2 || string.Equals(parts[0], database.ReplicaId, StringComparison.Ordinal))
        {
            // This replica's own write: it published it itself.
            return;
        }

        var runId = parts[1];
        if (channel == CancelsChannel)
        {
            runs.ChangedElsewhere(runId);
            attempts.RequestCancel(runId);
            return;
        }

        if (parts.Length < 4 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            runs.ChangedElsewhere(runId);
            return;
        }

        var type = parts[3];
        if (RunEventTypes.IsWrittenLater(type))
        {
            // Progress or a preview: the run's stored state did not change, and the event is not in the store yet.
            if (parts.Length > 4 && parts[4].Split(' ', 2) is [var at, var data]
                && long.TryParse(at, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) && hub.HasSubscribers(runId))
            {
                hub.Forward(new RunEvent(runId, sequence, type, data, DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)));
            }

            return;
        }

        runs.ChangedElsewhere(runId);
        if (type is RunEventTypes.Queued or RunEventTypes.Requeued)
        {
            if (await store.GetAsync(runId, cancellationToken) is { } run)
            {
                // Observers first: a front door following the run hears of it before this replica can dispatch it.
                // The events from this one on are forwarded below.
                hub.Read(run, sequence - 1);
                runs.OfferQueued(run);
            }
        }
        else if (type == RunEventTypes.Dispatching)
        {
            queue.ClaimedElsewhere(runId, parts.Length > 4 ? parts[4] : null);
        }
        else if (RunEventTypes.IsTerminal(type))
        {
            queue.TryRemove(runId);
        }

        if (hub.HasSubscribers(runId))
        {
            foreach (var runEvent in await store.GetEventsAsync(runId, sequence - 1, cancellationToken))
            {
                hub.Forward(runEvent);
            }
        }
    }

    private async Task ResyncPeriodicallyAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ResyncInterval, time, stoppingToken);
                await ResyncAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StorageException ex)
            {
                LogFailed(ex);
            }
        }
    }

    /// <summary>The dispatch queue made to hold the runs stored as queued (with their inputs in the cache), and only those.</summary>
    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        var unfinished = await store.ListUnfinishedAsync(cancellationToken);
        foreach (var run in unfinished)
        {
            hub.Read(run, run.LastEventSequence);
            if (run.Status == RunStatus.Queued)
            {
                runs.OfferQueued(run);
            }
        }

        foreach (var id in hub.SubscribedRunIds())
        {
            foreach (var runEvent in await store.GetEventsAsync(id, 0, cancellationToken))
            {
                hub.Forward(runEvent);
            }
        }

        var queued = unfinished.Where(r => r.Status == RunStatus.Queued).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in queue.QueuedIds().Where(id => !queued.Contains(id)))
        {
            // Claimed, cancelled or finished elsewhere after the listing began would also be absent; runs
            // queued here since then are not (the listing came first), so nothing live is dropped.
            if (await store.GetAsync(id, cancellationToken) is not { Status: RunStatus.Queued })
            {
                queue.TryRemove(id);
            }
        }
    }

    [LoggerMessage(EventId = EventIds.PostgresReplicaFeedFailed, Level = LogLevel.Warning, Message = "Hearing the other replicas' writes failed; listening again")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(EventId = EventIds.PostgresReplicaFeedListening, Level = LogLevel.Information, Message = "Listening for the other replicas' run writes")]
    private partial void LogListening();
}
