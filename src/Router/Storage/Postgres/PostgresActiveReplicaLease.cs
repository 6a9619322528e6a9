using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// The active-replica lease as a session-level advisory lock held on one connection for the router's
/// life. PostgreSQL releases it when that session ends, so a router killed outright (SIGKILL: the
/// kernel closes its socket, the server ends the session at once) hands over to a standby in the time
/// the standby takes to start its recovery. The holder checks its connection every second; once it
/// is lost (a network partition, the server restarted) another replica may already be active, so this
/// one stops the application rather than drive workers alongside it.
/// </summary>
internal sealed partial class PostgresActiveReplicaLease(
    PostgresRouterDatabase database, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<PostgresActiveReplicaLease> logger) : IActiveReplicaLease, IAsyncDisposable
{
    /// <summary>The advisory lock key of the lease ("comfyact" in ASCII), apart from the migration lock's.</summary>
    internal const long LockKey = 0x636f6d6679616374;

    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private NpgsqlConnection? _connection;
    private Task? _watch;

    public async Task AcquireAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            return;
        }

        var connection = await database.OpenLeaseConnectionAsync(cancellationToken);
        try
        {
            await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
            {
                if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
                {
                    LogStandingBy();
                    await using var waitLock = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", connection) { CommandTimeout = 0 };
                    await waitLock.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }
        catch (NpgsqlException ex)
        {
            await connection.DisposeAsync();
            throw new StorageException($"The active-replica lease on PostgreSQL could not be taken: {ex.Message}", ex);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        _connection = connection;
        LogActive(connection.ProcessID);
        _watch = Task.Run(() => WatchAsync(connection, _stopping.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_watch is not null)
        {
            await _watch;
        }

        if (_connection is not null)
        {
            // Closing the session releases the lock; the standby takes over without waiting for anything else.
            await _connection.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task WatchAsync(NpgsqlConnection connection, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckInterval, time, stopping);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                timeout.CancelAfter(CheckTimeout);
                await using var check = new NpgsqlCommand("SELECT 1", connection);
                await check.ExecuteScalarAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or InvalidOperationException)
            {
                LogLost(ex);
                lifetime.StopApplication();
                return;
            }
        }
    }

    [LoggerMessage(EventId = EventIds.PostgresActiveReplicaLeaseStandingBy, Level = LogLevel.Information, Message = "Another router replica is active on this database; standing by until it is gone")]
    private partial void LogStandingBy();

    [LoggerMessage(EventId = EventIds.PostgresActiveReplicaLeaseActive, Level = LogLevel.Information, Message = "This router replica is now the active one (lease held by PostgreSQL backend {BackendPid})")]
    private partial void LogActive(int backendPid);

    [LoggerMessage(EventId = EventIds.PostgresActiveReplicaLeaseLost, Level = LogLevel.Critical, Message = "The active-replica lease's connection to PostgreSQL is lost; another replica may take over, so this router stops")]
    private partial void LogLost(Exception exception);
}
