using System.Diagnostics;
using ComfyOperator.Router.Storage;
using ComfyOperator.Router.Storage.Sqlite;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

/// <summary>
/// The write gate of the router database: a lone write commits on its caller's thread; writes that arrive
/// while a commit runs share the next one (group commit); one failing write fails only itself; disposing
/// commits what is queued; a caller's continuation never runs inside another caller's commit.
/// A write holds the gate while it awaits <see cref="_held"/>, so the tests queue writes behind it at will.
/// </summary>
public sealed class SqliteRouterDatabaseTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("router-write-gate-").FullName;
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SqliteRouterDatabase _database;

    public SqliteRouterDatabaseTests()
    {
        _database = new SqliteRouterDatabase(Path.Combine(_directory, "router.db"));
    }

    [Fact]
    public async Task WriteAsync_GateFree_CommitsOnTheCallersThreadBeforeReturning()
    {
        await CreateTableAsync();
        var caller = Environment.CurrentManagedThreadId;
        var ranOn = 0;
        var commits = _database.Commits;

        var write = _database.WriteAsync(
            async (session, ct) =>
            {
                ranOn = Environment.CurrentManagedThreadId;
                return await InsertAsync(session, 1, "alone", ct);
            },
            CancellationToken.None);

        Assert.True(write.IsCompletedSuccessfully);
        Assert.Equal(caller, ranOn);
        Assert.Equal(1, await write);
        Assert.Equal(commits + 1, _database.Commits);
        Assert.Equal(new[] { "1=alone" }, await RowsAsync(_database));
    }

    [Fact]
    public async Task WriteAsync_ManyTasksWhileACommitRuns_AllCommittedInOneMoreCommit()
    {
        await CreateTableAsync();
        var holding = HoldGate();
        var commits = _database.Commits;

        // Each write queued from a pool thread of its own, all while the gate is held.
        var writes = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => Task.Factory.StartNew(
            () => _database.WriteAsync((session, ct) => InsertAsync(session, i, $"v{i}", ct), CancellationToken.None),
            CancellationToken.None,
            TaskCreationOptions.None,
            TaskScheduler.Default)));
        Assert.All(writes, w => Assert.False(w.IsCompleted));
        _held.SetResult();

        Assert.Equal(Enumerable.Range(1, 200), (await Task.WhenAll(writes).WaitAsync(Deadline)).Order());
        await holding.WaitAsync(Deadline);
        Assert.Equal(commits + 2, _database.Commits);
        Assert.Equal(201, (await RowsAsync(_database)).Count);
    }

    [Fact]
    public async Task WriteAsync_AfterWritesArrivedTogether_CommitsOnAPoolThreadUntilAloneAgain()
    {
        await CreateTableAsync();
        var holding = HoldGate();
        var together = new[] { 1, 2 }.Select(i => _database.WriteAsync((session, ct) => InsertAsync(session, i, $"v{i}", ct), CancellationToken.None)).ToList();
        _held.SetResult();
        await Task.WhenAll(together).WaitAsync(Deadline);
        await holding.WaitAsync(Deadline);

        // The last commit held two writes: the next one is committed by a pool thread, and held only itself.
        var (pooled, pooledHere) = await WriteRecordingThreadAsync(3);
        Assert.False(pooledHere);
        Assert.Equal(3, await pooled.WaitAsync(Deadline));

        // Alone again: once the pool thread has given the gate back, writes commit on their caller's thread.
        var id = 3;
        var clock = Stopwatch.StartNew();
        bool here;
        do
        {
            Task<int> write;
            (write, here) = await WriteRecordingThreadAsync(++id);
            Assert.Equal(id, await write.WaitAsync(Deadline));
        }
        while (!here && clock.Elapsed < Deadline);

        Assert.True(here);
        Assert.Equal(id + 1, (await RowsAsync(_database)).Count);
    }

    [Fact]
    public async Task WriteAsync_OneWriteOfABatchFails_OnlyThatWriteFails()
    {
        await CreateTableAsync();
        var holding = HoldGate();

        var writes = Enumerable.Range(1, 10)
            .Select(i => _database.WriteAsync((session, ct) => InsertAsync(session, i, i == 5 ? null : $"v{i}", ct), CancellationToken.None))
            .ToList();
        _held.SetResult();

        var failed = await Assert.ThrowsAsync<StorageException>(() => writes[4].WaitAsync(Deadline));
        Assert.Contains("NOT NULL", failed.Message, StringComparison.Ordinal);
        await holding.WaitAsync(Deadline);
        foreach (var i in new[] { 1, 2, 3, 4, 6, 7, 8, 9, 10 })
        {
            Assert.Equal(i, await writes[i - 1].WaitAsync(Deadline));
        }

        Assert.Equal(new[] { "0=holder" }.Concat(new[] { 1, 2, 3, 4, 6, 7, 8, 9, 10 }.Select(i => $"{i}=v{i}")), await RowsAsync(_database));
    }

    [Fact]
    public async Task DisposeAsync_WritesQueuedBehindACommit_CommitsThemBeforeClosing()
    {
        await CreateTableAsync();
        var holding = HoldGate();
        var writes = Enumerable.Range(1, 20).Select(i => _database.WriteAsync((session, ct) => InsertAsync(session, i, $"v{i}", ct), CancellationToken.None)).ToList();

        var disposing = _database.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        _held.SetResult();
        await disposing.WaitAsync(Deadline);

        Assert.All(writes, w => Assert.True(w.IsCompletedSuccessfully));
        Assert.True(holding.IsCompletedSuccessfully);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _database.WriteAsync((session, ct) => InsertAsync(session, 99, "late", ct), CancellationToken.None));
        await using var reopened = new SqliteRouterDatabase(_database.Path);
        Assert.Equal(21, (await RowsAsync(reopened)).Count);
    }

    [Fact]
    public async Task WriteAsync_CallersContinuationBlocks_OtherWritesOfItsCommitStillComplete()
    {
        await CreateTableAsync();
        var holding = HoldGate();
        using var unblock = new ManualResetEventSlim();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Queued together, so committed together: a continuation run inside that commit would hold up the second.
        var first = _database.WriteAsync((session, ct) => InsertAsync(session, 1, "first", ct), CancellationToken.None)
            .ContinueWith(
                _ =>
                {
                    blocked.SetResult();
                    // Longer than the test waits for the second write, so a continuation run inside the commit fails it.
                    unblock.Wait(Deadline * 2);
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        var second = _database.WriteAsync((session, ct) => InsertAsync(session, 2, "second", ct), CancellationToken.None);
        _held.SetResult();

        try
        {
            await blocked.Task.WaitAsync(Deadline);
            Assert.Equal(2, await second.WaitAsync(Deadline));
            await holding.WaitAsync(Deadline);
        }
        finally
        {
            unblock.Set();
        }

        await first.WaitAsync(Deadline);
    }

    public async ValueTask DisposeAsync()
    {
        _held.TrySetResult();
        await _database.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task CreateTableAsync() =>
        _database.WriteAsync(
            async (session, ct) => await session.Command("CREATE TABLE gate_test (id INTEGER PRIMARY KEY, value TEXT NOT NULL)").ExecuteNonQueryAsync(ct),
            CancellationToken.None);

    /// <summary>A write that holds the gate (its transaction open) until <see cref="_held"/> completes; the gate is held when this returns.</summary>
    private Task<int> HoldGate()
    {
        var holding = _database.WriteAsync(
            async (session, ct) =>
            {
                await _held.Task;
                return await InsertAsync(session, 0, "holder", ct);
            },
            CancellationToken.None);
        Assert.False(holding.IsCompleted);
        return holding;
    }

    /// <summary>A write, and whether its SQLite work ran on the caller's thread before <c>WriteAsync</c> returned.</summary>
    private async Task<(Task<int> Write, bool OnCallersThread)> WriteRecordingThreadAsync(int id)
    {
        var caller = Environment.CurrentManagedThreadId;
        var returned = false;
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var write = _database.WriteAsync(
            (session, ct) =>
            {
                ran.SetResult(!Volatile.Read(ref returned) && Environment.CurrentManagedThreadId == caller);
                return InsertAsync(session, id, $"v{id}", ct);
            },
            CancellationToken.None);
        Volatile.Write(ref returned, true);
        return (write, await ran.Task.WaitAsync(Deadline));
    }

    private static async Task<int> InsertAsync(SqliteSession session, int id, string? value, CancellationToken cancellationToken)
    {
        var command = session.Command("INSERT INTO gate_test (id, value) VALUES ($id, $value)");
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$value", (object?)value ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return id;
    }

    private static Task<List<string>> RowsAsync(SqliteRouterDatabase database) =>
        database.ReadAsync(
            async (session, ct) =>
            {
                var rows = new List<string>();
                await using var reader = await session.Command("SELECT id, value FROM gate_test ORDER BY id").ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add($"{reader.GetInt64(0)}={reader.GetString(1)}");
                }

                return rows;
            },
            CancellationToken.None);
}
