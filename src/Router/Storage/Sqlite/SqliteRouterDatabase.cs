using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>
/// The router's SQLite file (WAL, synchronous=NORMAL: a commit is durable across a process crash
/// and costs no fsync; a power loss can lose the last commits, never corrupt the file). It owns the
/// connections the stores use:
/// <list type="bullet">
/// <item>one writer, behind the write gate: whoever holds the gate takes every write queued since the
/// last commit and commits them in one transaction (group commit), so concurrent state changes
/// share a commit; a caller's task completes only after the commit that holds its write. A caller
/// that finds the gate free commits on its own thread and goes on without a thread switch (a lone
/// write, the usual case on a run's path, costs its SQLite work and nothing more); callers that find
/// it held wait for the holder's commit, and writes queued while a commit ran are committed by a
/// pool thread, so no caller waits for commits after its own. While commits hold several writes
/// (callers arrive together), every commit is a pool thread's, queued behind the work already
/// waiting, so the writes that work makes share it (about as many writes per commit as a
/// dedicated write loop gets);</item>
/// <item>a small pool of query-only readers, which WAL lets read while the writer writes.</item>
/// </list>
/// Each connection keeps its prepared statements (<see cref="SqliteSession"/>). Opening applies the
/// numbered migrations (<see cref="SqliteMigrator"/>). SQLite errors leave as <see cref="StorageException"/>.
/// </summary>
internal sealed partial class SqliteRouterDatabase : IRouterDatabase, IAsyncDisposable, IDisposable
{
    /// <summary>Most writes committed in one transaction.</summary>
    private const int MaxBatch = 512;

    /// <summary>Readers open at most (opened on demand).</summary>
    private const int MaxReaders = 4;

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private readonly SemaphoreSlim _readerSlots = new(MaxReaders, MaxReaders);
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The write gate: its holder alone reads <see cref="_writes"/> and uses the writer.</summary>
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>The batch being committed (the gate's holder's).</summary>
    private readonly List<PendingWrite> _batch = new(MaxBatch);

    /// <summary>The last commit held more than one write: callers are arriving together, so none commits on its own thread.</summary>
    private volatile bool _contended;
    private volatile SqliteSession? _writer;
    private volatile bool _disposed;
    private long _commits;
    private long _committedWrites;

    public SqliteRouterDatabase(string path, TimeProvider time, ILogger<SqliteRouterDatabase> logger)
    {
        _path = path;
        _time = time;
        _logger = logger;
    }

    /// <summary>A database on <paramref name="path"/> with the system clock and no logging (tests, tools).</summary>
    public SqliteRouterDatabase(string path)
        : this(path, TimeProvider.System, NullLogger<SqliteRouterDatabase>.Instance)
    {
    }

    public string Path => _path;

    /// <summary>Transactions the writer has committed (for benchmarks: writes per commit).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes committed (one per store call that changes something).</summary>
    public long Writes => Interlocked.Read(ref _committedWrites);

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
        {
            return;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return;
            }

            var directory = System.IO.Path.GetDirectoryName(_path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            SqliteConnection? connection = null;
            try
            {
                connection = await ConnectAsync("PRAGMA journal_mode = WAL;", cancellationToken);
                foreach (var applied in await SqliteMigrator.MigrateAsync(connection, _time, cancellationToken))
                {
                    LogMigrationApplied(applied.Version, applied.Name, _path);
                }
            }
            catch (SqliteException ex)
            {
                connection?.Dispose();
                throw new StorageException($"The router database {_path} could not be opened: {ex.Message}", ex);
            }
            catch
            {
                connection?.Dispose();
                throw;
            }

            _writer = new SqliteSession(connection);
        }
        finally
        {
            _opening.Release();
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        if (_writer is null || _disposed)
        {
            return false;
        }

        try
        {
            return await ReadAsync(async (session, ct) => await session.Command("SELECT 1").ExecuteScalarAsync(ct) is not null, cancellationToken);
        }
        catch (StorageException)
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="read"/> on a reader of the pool (a snapshot of the last commit per statement).</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteSession, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        await OpenAsync(cancellationToken);
        await _readerSlots.WaitAsync(cancellationToken);
        SqliteSession? reader = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_readers.TryTake(out reader))
            {
                reader = new SqliteSession(await ConnectAsync("PRAGMA query_only = ON;", cancellationToken));
            }

            return await read(reader, cancellationToken);
        }
        catch (SqliteException ex)
        {
            throw new StorageException($"Reading the router database failed: {ex.Message}", ex);
        }
        finally
        {
            if (reader is not null)
            {
                if (_disposed)
                {
                    reader.Dispose();
                }
                else
                {
                    _readers.Add(reader);
                }
            }

            _readerSlots.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> in the writer's transaction, possibly with other writes, and
    /// completes once that transaction is committed. It may be run again (alone) when another write
    /// in its batch fails, so it must only touch the database and return its result.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteSession, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        return _writer is null ? OpenThenWriteAsync(write, cancellationToken) : Enqueue(write, cancellationToken);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task<T> OpenThenWriteAsync<T>(Func<SqliteSession, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        return await Enqueue(write, cancellationToken);
    }

    /// <summary>
    /// Queues the write, then commits the queue here if the gate is free. Queued first, so a holder that
    /// releases the gate after this write failed to take it finds the write (<see cref="ReleaseGate"/>).
    /// </summary>
    private Task<T> Enqueue<T>(Func<SqliteSession, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite<T>(write);
        ObjectDisposedException.ThrowIf(!_writes.Writer.TryWrite(pending), this);
        if (_writeGate.Wait(0, CancellationToken.None))
        {
            if (!_contended)
            {
                return CommitHereAsync(pending.Done.Task, cancellationToken);
            }

            // Writes are arriving together: a pool thread commits a moment later, with those that arrive meanwhile.
            CommitOnPool();
        }

        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The gate is held: one commit of what is queued (this write with it, unless a full batch is ahead of it).</summary>
    private async Task<T> CommitHereAsync<T>(Task<T> done, CancellationToken cancellationToken)
    {
        try
        {
            await CommitQueuedAsync();
        }
        finally
        {
            ReleaseGate();
        }

        return await done.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Gives the gate back; writes queued meanwhile by callers that found it held are committed by a pool
    /// thread, not by this caller, whose own write is done (or is among them and waits like theirs).
    /// </summary>
    private void ReleaseGate()
    {
        _writeGate.Release();
        if (_writes.Reader.TryPeek(out _) && _writeGate.Wait(0, CancellationToken.None))
        {
            CommitOnPool();
        }
    }

    /// <summary>
    /// The gate is held: a pool thread commits what is queued. Queued behind the work already waiting (not in this
    /// thread's own queue, where it would run next), so callers whose writes just completed queue their next ones first.
    /// </summary>
    private void CommitOnPool() =>
        ThreadPool.UnsafeQueueUserWorkItem(static database => _ = database.CommitAllQueuedAsync(), this, preferLocal: false);

    /// <summary>The gate is held: commits until nothing is queued, then gives it back.</summary>
    private async Task CommitAllQueuedAsync()
    {
        try
        {
            while (_writes.Reader.TryPeek(out _))
            {
                await CommitQueuedAsync();
            }
        }
        finally
        {
            ReleaseGate();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _writes.Writer.TryComplete();
        if (_writer is not null)
        {
            // Queued writes are committed before the connection closes. The gate is kept: nothing writes after this.
            await _writeGate.WaitAsync(CancellationToken.None);
            while (_writes.Reader.TryPeek(out _))
            {
                await CommitQueuedAsync();
            }
        }

        _writer?.Dispose();
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private async Task<SqliteConnection> ConnectAsync(string pragmas, CancellationToken cancellationToken)
    {
        // Unpooled: the pool here is ours (readers keep their prepared statements with their connection).
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var command = connection.CreateCommand();
            command.CommandText = pragmas + """
                PRAGMA synchronous = NORMAL;
                PRAGMA busy_timeout = 5000;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The gate is held: one transaction for everything queued since the last commit (up to <see cref="MaxBatch"/>).
    /// Never throws: a write that fails fails its own caller's task.
    /// </summary>
    private async Task CommitQueuedAsync()
    {
        var writer = _writer!;
        var batch = _batch;
        batch.Clear();
        while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var write))
        {
            batch.Add(write);
        }

        // Empty when the holder before took this caller's write with its own.
        if (batch.Count == 0)
        {
            return;
        }

        _contended = batch.Count > 1;

        try
        {
            await CommitAsync(writer, batch);
        }
        catch (Exception) when (batch.Count > 1)
        {
            // One bad write must not fail the others: commit them one by one to find it.
            foreach (var write in batch)
            {
                try
                {
                    await CommitAsync(writer, [write]);
                }
                catch (Exception ex)
                {
                    write.Fail(Wrap(ex));
                }
            }
        }
        catch (Exception ex)
        {
            batch[0].Fail(Wrap(ex));
        }
        finally
        {
            batch.Clear();
        }
    }

    /// <summary>
    /// One transaction for <paramref name="batch"/>, begun and committed by the writer's prepared statements
    /// (a <see cref="SqliteTransaction"/> would parse its <c>BEGIN</c> and <c>COMMIT</c> again for every batch).
    /// </summary>
    private async Task CommitAsync(SqliteSession writer, List<PendingWrite> batch)
    {
        await writer.Command("BEGIN IMMEDIATE").ExecuteNonQueryAsync(CancellationToken.None);
        try
        {
            foreach (var write in batch)
            {
                await write.RunAsync(writer);
            }

            await writer.Command("COMMIT").ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch
        {
            // Some errors end the transaction themselves; roll back only one still open.
            if (raw.sqlite3_get_autocommit(writer.Connection.Handle) == 0)
            {
                writer.Command("ROLLBACK").ExecuteNonQuery();
            }

            throw;
        }

        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _committedWrites, batch.Count);
        foreach (var write in batch)
        {
            write.Complete();
        }
    }

    private static Exception Wrap(Exception ex) =>
        ex is SqliteException sqlite ? new StorageException($"Writing the router database failed: {sqlite.Message}", sqlite) : ex;

    [LoggerMessage(EventId = EventIds.SqliteRouterDatabaseMigrationApplied, Level = LogLevel.Information, Message = "Applied schema migration {Version} ({Name}) to {Path}")]
    private partial void LogMigrationApplied(int version, string name, string path);

    /// <summary>A write waiting for the writer.</summary>
    private abstract class PendingWrite
    {
        public abstract Task RunAsync(SqliteSession writer);

        public abstract void Complete();

        public abstract void Fail(Exception error);
    }

    private sealed class PendingWrite<T>(Func<SqliteSession, CancellationToken, Task<T>> write) : PendingWrite
    {
        private T? _result;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(SqliteSession writer) => _result = await write(writer, CancellationToken.None);

        public override void Complete() => Done.TrySetResult(_result!);

        public override void Fail(Exception error) => Done.TrySetException(error);
    }
}
