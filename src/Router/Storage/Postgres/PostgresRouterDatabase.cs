using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>
/// The router database on a PostgreSQL server, shared by every router replica that points at it.
/// Connections come from Npgsql's pool (statements auto-prepared per connection); each store call is
/// one round trip where it can be (a statement, or a batch that runs as one implicit transaction).
/// Opening applies the numbered migrations under an advisory lock (<see cref="PostgresMigrator"/>).
/// Npgsql errors leave as <see cref="StorageException"/>; no message carries the connection string.
/// </summary>
internal sealed partial class PostgresRouterDatabase : IRouterDatabase, IAsyncDisposable
{
    /// <summary>Statements kept prepared per connection unless the connection string says otherwise.</summary>
    private const int AutoPrepared = 64;

    private readonly NpgsqlDataSource _dataSource;
    private readonly IReadOnlyList<SchemaMigration> _migrations;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private volatile bool _open;
    private long _roundTrips;

    public PostgresRouterDatabase(string connectionString, TimeProvider time, ILogger<PostgresRouterDatabase> logger)
        : this(connectionString, PostgresMigrations.All, time, logger)
    {
    }

    /// <summary>A database on <paramref name="connectionString"/> with the system clock and no logging (tests, tools).</summary>
    public PostgresRouterDatabase(string connectionString)
        : this(connectionString, PostgresMigrations.All, TimeProvider.System, NullLogger<PostgresRouterDatabase>.Instance)
    {
    }

    internal PostgresRouterDatabase(string connectionString, IReadOnlyList<SchemaMigration> migrations, TimeProvider time, ILogger<PostgresRouterDatabase> logger)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);

        // Every session of this process carries its replica id: run notifications name their writer with it.
        builder.ConnectionStringBuilder.ApplicationName = ReplicaId;
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = AutoPrepared;
        }

        _dataSource = builder.Build();
        _migrations = migrations;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// This process among the replicas on the database: its sessions' <c>application_name</c>, the holder in
    /// its worker leases. New at each start, so a restarted router never mistakes an old lease for its own.
    /// </summary>
    public string ReplicaId { get; } = $"comfy-router/{Guid.NewGuid():N}";

    /// <summary>Round trips to the server made by the stores (for benchmarks: round trips per run).</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_open)
        {
            return;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_open)
            {
                return;
            }

            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                foreach (var applied in await PostgresMigrator.MigrateAsync(connection, _migrations, _time, cancellationToken))
                {
                    LogMigrationApplied(applied.Version, applied.Name, connection.Database);
                }
            }
            catch (NpgsqlException ex)
            {
                throw new StorageException($"The router database on PostgreSQL could not be opened: {ex.Message}", ex);
            }

            _open = true;
        }
        finally
        {
            _opening.Release();
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        if (!_open)
        {
            return false;
        }

        try
        {
            return await RunAsync(async (connection, ct) =>
            {
                await using var command = Command(connection, "SELECT 1");
                return await command.ExecuteScalarAsync(ct) is not null;
            }, cancellationToken);
        }
        catch (StorageException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a pooled connection (opening the database first if needed);
    /// Npgsql errors become <see cref="StorageException"/>.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await OpenAsync(cancellationToken);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            return await work(connection, cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new StorageException($"The router database on PostgreSQL failed: {ex.Message}", ex);
        }
    }

    /// <summary>A connection for the active-replica lease, kept by the caller for the router's life (one pool slot).</summary>
    public async Task<NpgsqlConnection> OpenLeaseConnectionAsync(CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new StorageException($"The router database on PostgreSQL failed: {ex.Message}", ex);
        }
    }

    /// <summary>A command on <paramref name="connection"/>, counted as one round trip.</summary>
    public NpgsqlCommand Command(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction = null)
    {
        Interlocked.Increment(ref _roundTrips);
        return new NpgsqlCommand(sql, connection, transaction);
    }

    /// <summary>A batch on <paramref name="connection"/> (one round trip, one implicit transaction when none is open).</summary>
    public NpgsqlBatch Batch(NpgsqlConnection connection)
    {
        Interlocked.Increment(ref _roundTrips);
        return new NpgsqlBatch(connection);
    }

    /// <summary>Counts the round trips of a transaction's BEGIN and COMMIT (Npgsql sends BEGIN with the first statement).</summary>
    public void CountCommit() => Interlocked.Increment(ref _roundTrips);

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        _opening.Dispose();
    }

    [LoggerMessage(EventId = EventIds.PostgresRouterDatabaseMigrationApplied, Level = LogLevel.Information, Message = "Applied schema migration {Version} ({Name}) to PostgreSQL database {Database}")]
    private partial void LogMigrationApplied(int version, string name, string database);
}
