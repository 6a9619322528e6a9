using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// Worker leases of active/active replicas: a <c>worker_leases</c> row per worker names the replica that
/// drives it. Every second each replica renews its rows and its own liveness (<c>router_replicas</c>) in
/// one round trip, and takes free workers (no row, or a row not renewed for <see cref="Lifetime"/>) up to its
/// share, the workers divided by the replicas alive; a replica over its share hands back idle workers
/// (no run of its on them) so one started later gets some. Expiry is judged on the server's clock. A
/// replica trusts its own leases only until <see cref="Lifetime"/> after the start of its last renewal
/// that succeeded, so it has stopped placing runs on a worker before another replica can take it.
/// Taking a worker raises <see cref="Acquired"/>: the dispatcher then follows the runs left on it, as
/// after a restart. Stopping deletes this replica's rows, so the others take its workers at once.
/// </summary>
internal sealed partial class PostgresWorkerLeases(
    PostgresRouterDatabase database, WorkerRegistry registry, TimeProvider time, ILogger<PostgresWorkerLeases> logger) : BackgroundService, IWorkerLeases
{
    /// <summary>How long a lease lasts unless renewed: a replica that dies gives its workers up after this.</summary>
    internal static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    internal static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(1);

    private const string Heartbeat = """
        INSERT INTO router_replicas (id, expires_at) VALUES (@me, clock_timestamp() + @life)
        ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at
        """;

    private const string Renew = """
        UPDATE worker_leases SET expires_at = clock_timestamp() + @life WHERE holder = @me AND worker = ANY(@workers) RETURNING worker
        """;

    private const string Others = """
        SELECT (SELECT COUNT(*) FROM router_replicas WHERE expires_at > clock_timestamp()),
            ARRAY(SELECT worker FROM worker_leases WHERE worker = ANY(@workers) AND holder <> @me AND expires_at > clock_timestamp())
        """;

    private const string Take = """
        INSERT INTO worker_leases (worker, holder, expires_at) SELECT w, @me, clock_timestamp() + @life FROM unnest(@take) AS w
        ON CONFLICT (worker) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
            WHERE worker_leases.expires_at < clock_timestamp()
        RETURNING worker
        """;

    private const string Release = "DELETE FROM worker_leases WHERE holder = @me AND worker = ANY(@release)";

    private const string Leave = "DELETE FROM worker_leases WHERE holder = @me; DELETE FROM router_replicas WHERE id = @me";

    private static readonly TimeSpan StatementTimeout = TimeSpan.FromSeconds(3);

    private readonly Lock _gate = new();
    private volatile IReadOnlyDictionary<string, Uri> _held = new Dictionary<string, Uri>(StringComparer.Ordinal);
    private EventHandler<Uri>? _acquired;

    /// <summary>Workers over this replica's share that it stopped placing runs on in the last round, to be handed back in the next.</summary>
    private List<string> _releasing = [];
    private long _validUntilTicks;

    /// <summary>
    /// Raised for each worker this replica takes; a handler added later hears of the workers held already,
    /// so the dispatcher, which stops before the leases are handed back and so starts after them, misses none.
    /// </summary>
    public event EventHandler<Uri>? Acquired
    {
        add
        {
            lock (_gate)
            {
                _acquired += value;
                foreach (var worker in _held.Values)
                {
                    value?.Invoke(this, worker);
                }
            }
        }

        remove
        {
            lock (_gate)
            {
                _acquired -= value;
            }
        }
    }

    public bool Holds(Uri worker) => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _validUntilTicks) && _held.ContainsKey(worker.ToString());

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _held = new Dictionary<string, Uri>(StringComparer.Ordinal);
        try
        {
            await database.RunAsync(
                async (connection, ct) =>
                {
                    await using var leave = database.Command(connection, Leave);
                    Add(leave, "me", NpgsqlDbType.Text, database.ReplicaId);
                    return await leave.ExecuteNonQueryAsync(ct);
                },
                cancellationToken);
        }
        catch (Exception ex) when (ex is StorageException or ObjectDisposedException)
        {
            // The rows expire by themselves; the other replicas only wait longer for these workers. (A host
            // stopped from two places at once, as a test host is, may have disposed the database already.)
            LogRenewFailed(ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RenewAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StorageException or OperationCanceledException)
            {
                // Held leases stay trusted until their validity ends; after that this replica drives nothing.
                LogRenewFailed(ex);
            }

            try
            {
                await Task.Delay(RenewInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One round of renewal and taking; internal so tests can drive it without waiting for the timer.</summary>
    internal async Task RenewAsync(CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var workers = registry.Workers.Where(w => !w.Removed).ToDictionary(w => w.BaseAddress.ToString(), StringComparer.Ordinal);
        var names = workers.Keys.ToArray();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StatementTimeout);
        var (mine, replicas, others) = await database.RunAsync(
            async (connection, ct) =>
            {
                await using var batch = database.Batch(connection);
                batch.BatchCommands.Add(Command(Heartbeat, names));
                batch.BatchCommands.Add(Command(Renew, names));
                batch.BatchCommands.Add(Command(Others, names));
                var renewed = new HashSet<string>(StringComparer.Ordinal);
                await using var reader = await batch.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    renewed.Add(reader.GetString(0));
                }

                await reader.NextResultAsync(ct);
                await reader.ReadAsync(ct);
                return (renewed, Math.Max(1L, reader.GetInt64(0)), reader.GetFieldValue<string[]>(1).ToHashSet(StringComparer.Ordinal));
            },
            timeout.Token);

        var share = (int)((names.Length + replicas - 1) / replicas);
        var taken = new List<string>();
        var free = names.Where(n => !mine.Contains(n) && !others.Contains(n)).ToArray();
        if (mine.Count < share && free.Length > 0)
        {
            // Replicas starting together would all try the same workers first; a random order spreads them.
            Random.Shared.Shuffle(free);
            taken = await TakeAsync(free.Take(share - mine.Count).ToArray(), timeout.Token);
        }

        // Handing a worker back takes two rounds: this one stops placing runs on it (it leaves the held set
        // but its lease is renewed), the next deletes the lease if no run of this replica is on it by then.
        // A run placed in the instant before is on it (IsIdle false) long before the next round, so the replica
        // that takes the worker never finds a run whose prompt this one is still posting, nor one whose outputs
        // this one still copies (a finishing run).
        var released = _releasing.Where(n => mine.Contains(n) && workers.TryGetValue(n, out var w) && w.IsIdle).ToList();
        _releasing = mine.Count - released.Count > share
            ? [.. mine.Where(n => !released.Contains(n) && workers[n].IsIdle).Take(mine.Count - released.Count - share)]
            : [];
        var held = mine.Concat(taken).Except(released).Except(_releasing).ToDictionary(n => n, n => workers[n].BaseAddress, StringComparer.Ordinal);
        lock (_gate)
        {
            var previous = _held;
            _held = held;
            Interlocked.Exchange(ref _validUntilTicks, (started + Lifetime - RenewInterval).UtcTicks);
            foreach (var (name, uri) in held.Where(h => !previous.ContainsKey(h.Key)))
            {
                LogAcquired(name);
                _acquired?.Invoke(this, uri);
            }
        }

        if (released.Count > 0)
        {
            await ReleaseAsync([.. released], timeout.Token);
            foreach (var name in released)
            {
                LogReleased(name);
            }
        }
    }

    private async Task<List<string>> TakeAsync(string[] take, CancellationToken cancellationToken) =>
        await database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Take);
                Add(command, "me", NpgsqlDbType.Text, database.ReplicaId);
                Add(command, "life", NpgsqlDbType.Interval, Lifetime);
                Add(command, "take", NpgsqlDbType.Array | NpgsqlDbType.Text, take);
                var taken = new List<string>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    taken.Add(reader.GetString(0));
                }

                return taken;
            },
            cancellationToken);

    private async Task ReleaseAsync(string[] release, CancellationToken cancellationToken) =>
        await database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Release);
                Add(command, "me", NpgsqlDbType.Text, database.ReplicaId);
                Add(command, "release", NpgsqlDbType.Array | NpgsqlDbType.Text, release);
                return await command.ExecuteNonQueryAsync(ct);
            },
            cancellationToken);

    private NpgsqlBatchCommand Command(string sql, string[] workers)
    {
        var command = new NpgsqlBatchCommand(sql);
        PostgresParameters.Add(command.Parameters, "me", NpgsqlDbType.Text, database.ReplicaId);
        if (sql.Contains("@life", StringComparison.Ordinal))
        {
            PostgresParameters.Add(command.Parameters, "life", NpgsqlDbType.Interval, Lifetime);
        }

        if (sql.Contains("@workers", StringComparison.Ordinal))
        {
            PostgresParameters.Add(command.Parameters, "workers", NpgsqlDbType.Array | NpgsqlDbType.Text, workers);
        }

        return command;
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value) => PostgresParameters.Add(command.Parameters, name, type, value);

    [LoggerMessage(EventId = EventIds.PostgresWorkerLeasesAcquired, Level = LogLevel.Information, Message = "This replica now drives worker {Worker}")]
    private partial void LogAcquired(string worker);

    [LoggerMessage(EventId = EventIds.PostgresWorkerLeasesReleased, Level = LogLevel.Information, Message = "Handed back idle worker {Worker}, over this replica's share, for another replica to take")]
    private partial void LogReleased(string worker);

    [LoggerMessage(EventId = EventIds.PostgresWorkerLeasesRenewFailed, Level = LogLevel.Warning, Message = "Renewing this replica's worker leases failed")]
    private partial void LogRenewFailed(Exception exception);
}
