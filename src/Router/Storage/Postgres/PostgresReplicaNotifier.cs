using System.Globalization;
using System.Threading.Channels;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NpgsqlTypes;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// Tells the other active/active replicas about each run event this one published, on <c>comfy_run_events</c>
/// (payload: replica id, run id, sequence, type, and for a claim the run's owner; for progress and previews,
/// which are written later, also the time and the data; <see cref="PostgresReplicaFeed"/> hears them). Sent after
/// the write committed, in batches of whatever has gathered, each one statement in a transaction of its
/// own that writes nothing: a notifying transaction holds a database-wide lock until it has committed, so
/// notifying inside the run writes would put every write's WAL flush under that lock, one at a time (the
/// store bench went from about 300 to about 40 runs/s). A notification lost with a replica that died
/// after its write is made up by the feed's reconciliation.
/// </summary>
internal sealed partial class PostgresReplicaNotifier(PostgresRouterDatabase database, ILogger<PostgresReplicaNotifier> logger) : BackgroundService
{
    private const int MaxBatch = 512;

    /// <summary>Longest payload sent with its data (<c>pg_notify</c> takes at most 8000 bytes); a longer one goes without.</summary>
    private const int MaxPayloadChars = 2000;

    /// <summary>
    /// Notifications are not durable, so the transaction that sends them need not wait for its WAL flush
    /// (a notifying transaction has a transaction id and a commit record of its own).
    /// </summary>
    private const string Notify = $"""
        WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
        SELECT COUNT(pg_notify('{PostgresReplicaFeed.EventsChannel}', p)) FROM relaxed, unnest(@payloads) AS p
        """;

    private readonly Channel<string> _pending = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Queues the notification of <paramref name="runEvent"/>; quick, never throws. A claim (<c>dispatching</c>)
    /// also names the run's owner, last, for the other replicas' fair-share clocks. Progress and previews are not
    /// in the store yet, so they carry their time (Unix milliseconds) and data, last.
    /// </summary>
    public void Enqueue(RunRecord run, RunEvent runEvent)
    {
        var payload = $"{database.ReplicaId} {runEvent.RunId} {runEvent.Sequence} {runEvent.Type}";
        if (runEvent.Type == RunEventTypes.Dispatching && run.Owner is { } owner)
        {
            payload = $"{payload} {owner}";
        }
        else if (RunEventTypes.IsWrittenLater(runEvent.Type) && payload.Length + runEvent.Data.Length < MaxPayloadChars)
        {
            payload = string.Create(CultureInfo.InvariantCulture, $"{payload} {runEvent.At.ToUnixTimeMilliseconds()} {runEvent.Data}");
        }

        _pending.Writer.TryWrite(payload);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<string>(MaxBatch);
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var payload))
                {
                    batch.Add(payload);
                }

                try
                {
                    await database.RunAsync(
                        async (connection, ct) =>
                        {
                            await using var command = database.Command(connection, Notify);
                            PostgresParameters.Add(command, "payloads", NpgsqlDbType.Array | NpgsqlDbType.Text, batch.ToArray());
                            return await command.ExecuteScalarAsync(ct);
                        },
                        stoppingToken);
                }
                catch (StorageException ex)
                {
                    // The other replicas reconcile their queues and their subscribers' streams from the store.
                    LogFailed(ex, batch.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = EventIds.PostgresReplicaNotifierFailed, Level = LogLevel.Warning, Message = "Notifying the other replicas of {Count} run events failed")]
    private partial void LogFailed(Exception exception, int count);
}
