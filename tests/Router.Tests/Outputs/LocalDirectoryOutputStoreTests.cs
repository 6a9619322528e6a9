using ComfyOperator.Router.Outputs;

namespace ComfyOperator.Router.Tests.Outputs;

/// <summary>The local output store: what it writes is whole or absent, and it reads back what it wrote.</summary>
public sealed class LocalDirectoryOutputStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "router-tests", "local-outputs-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task SaveAsync_ContentInChunks_StoredWholeWithItsSizeAndNoPartialFile()
    {
        var store = new LocalDirectoryOutputStore(_root);
        var bytes = new byte[300_000];
        new Random(3).NextBytes(bytes);

        // A stream that hands out odd-sized reads, as a response body does: every chunk lands at its offset.
        var size = await store.SaveAsync("run-1", "images/ComfyUI_00001_.png", new ChunkedStream(bytes, 7_001), CancellationToken.None);

        Assert.Equal(bytes.Length, size);
        await using var read = await store.OpenAsync("run-1", "images/ComfyUI_00001_.png", CancellationToken.None);
        Assert.NotNull(read);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Empty(Directory.EnumerateFiles(_root, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task SaveAsync_ContentFailsHalfWay_NothingLeftAndAnEarlierCopyStays()
    {
        var store = new LocalDirectoryOutputStore(_root);
        await store.SaveAsync("run-1", "9/a.png", new MemoryStream([1, 2, 3]), CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => store.SaveAsync("run-1", "9/a.png", new ChunkedStream(new byte[100_000], 10_000, failAfter: 50_000), CancellationToken.None));

        await using var read = await store.OpenAsync("run-1", "9/a.png", CancellationToken.None);
        using var copy = new MemoryStream();
        await read!.CopyToAsync(copy);
        Assert.Equal(new byte[] { 1, 2, 3 }, copy.ToArray());
        Assert.Empty(Directory.EnumerateFiles(_root, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task SaveAsync_PartialFileLeftByACrash_WrittenAgainWhole()
    {
        // A router killed during a copy leaves the partial file; the copy made after its restart replaces it, longer or shorter.
        var folder = Path.Combine(_root, LocalDirectoryOutputStore.FolderOf("run-1"));
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "run-1+images+a.png.partial"), new byte[5_000]);
        var store = new LocalDirectoryOutputStore(_root);

        var size = await store.SaveAsync("run-1", "images/a.png", new MemoryStream([4, 5, 6]), CancellationToken.None);

        Assert.Equal(3, size);
        Assert.Equal([4, 5, 6], await ReadAsync(store, "run-1", "images/a.png"));
        Assert.Empty(Directory.EnumerateFiles(_root, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task SaveAsync_OutputsOfRuns_OneFileEachInTheRunsShardFolderAndNoFolderPerRun()
    {
        var store = new LocalDirectoryOutputStore(_root);

        await store.SaveAsync("run-1", "images/ComfyUI_00001_.png", new MemoryStream([1]), CancellationToken.None);
        await store.SaveAsync("run-1", "9/ComfyUI_00001_.png", new MemoryStream([2]), CancellationToken.None);
        await store.SaveAsync("run-1", "single.json", new MemoryStream([3]), CancellationToken.None);
        await store.SaveAsync("run-2", "single.json", new MemoryStream([4]), CancellationToken.None);

        var folder = Path.Combine(_root, LocalDirectoryOutputStore.FolderOf("run-1"));
        Assert.Matches("^@[0-9a-f]{2}$", LocalDirectoryOutputStore.FolderOf("run-1"));
        Assert.Empty(Directory.EnumerateDirectories(folder));
        Assert.Equal(
            ["run-1+9+ComfyUI_00001_.png", "run-1+images+ComfyUI_00001_.png", "run-1+single.json"],
            Directory.EnumerateFiles(folder, "run-1+*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(
            new[] { LocalDirectoryOutputStore.FolderOf("run-1"), LocalDirectoryOutputStore.FolderOf("run-2") }.Distinct().Order(StringComparer.Ordinal),
            Directory.EnumerateDirectories(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal([2], await ReadAsync(store, "run-1", "9/ComfyUI_00001_.png"));
        Assert.Equal([4], await ReadAsync(store, "run-2", "single.json"));
    }

    [Fact]
    public async Task DeleteRunAsync_RunSharingItsFolder_OnlyThatRunsFilesGo()
    {
        var store = new LocalDirectoryOutputStore(_root);
        var first = "run-a";
        var second = Enumerable.Range(0, 10_000).Select(i => $"run-a{i}").First(id => LocalDirectoryOutputStore.FolderOf(id) == LocalDirectoryOutputStore.FolderOf(first));
        await store.SaveAsync(first, "images/a.png", new MemoryStream([1]), CancellationToken.None);
        await store.SaveAsync(first, "b.png", new MemoryStream([2]), CancellationToken.None);
        await store.SaveAsync(second, "images/a.png", new MemoryStream([3]), CancellationToken.None);

        await store.DeleteRunAsync(first, CancellationToken.None);

        Assert.Null(await store.OpenAsync(first, "images/a.png", CancellationToken.None));
        Assert.Null(await store.OpenAsync(first, "b.png", CancellationToken.None));
        Assert.Equal([3], await ReadAsync(store, second, "images/a.png"));
    }

    [Fact]
    public async Task OpenAsync_OutputStoredInARunsFolderOneLevelDeep_ReadDeletedAndTheRunDeletedWithIt()
    {
        // An output directory written before shard folders: <run>/<output>+<file>.
        var legacy = Path.Combine(_root, "run-old");
        Directory.CreateDirectory(legacy);
        await File.WriteAllBytesAsync(Path.Combine(legacy, "images+a.png"), [7, 8]);
        await File.WriteAllBytesAsync(Path.Combine(legacy, "b.png"), [9]);
        var store = new LocalDirectoryOutputStore(_root);

        Assert.Equal([7, 8], await ReadAsync(store, "run-old", "images/a.png"));
        Assert.Equal([9], await ReadAsync(store, "run-old", "b.png"));

        await store.DeleteAsync("run-old", "images/a.png", CancellationToken.None);
        Assert.Null(await store.OpenAsync("run-old", "images/a.png", CancellationToken.None));

        await store.DeleteRunAsync("run-old", CancellationToken.None);
        Assert.False(Directory.Exists(legacy));
    }

    [Fact]
    public async Task OpenAsync_OutputStoredBeforeOneLevel_ReadDeletedAndTheRunDeletedWithIt()
    {
        // An output directory written before outputs were one level deep: <run>/<output>/<file>.
        var legacy = Path.Combine(_root, "run-old", "images");
        Directory.CreateDirectory(legacy);
        await File.WriteAllBytesAsync(Path.Combine(legacy, "a.png"), [7, 8]);
        await File.WriteAllBytesAsync(Path.Combine(legacy, "b.png"), [9]);
        var store = new LocalDirectoryOutputStore(_root);

        Assert.Equal([7, 8], await ReadAsync(store, "run-old", "images/a.png"));
        Assert.Null(await store.OpenAsync("run-old", "images/missing.png", CancellationToken.None));

        await store.DeleteAsync("run-old", "images/a.png", CancellationToken.None);
        Assert.Null(await store.OpenAsync("run-old", "images/a.png", CancellationToken.None));
        Assert.Equal([9], await ReadAsync(store, "run-old", "images/b.png"));

        await store.DeleteRunAsync("run-old", CancellationToken.None);
        Assert.False(Directory.Exists(Path.Combine(_root, "run-old")));
    }

    [Fact]
    public async Task DeleteAsync_RunWithoutADirectory_NothingToDelete()
    {
        var store = new LocalDirectoryOutputStore(_root);

        await store.DeleteAsync("never-stored", "images/a.png", CancellationToken.None);

        Assert.False(Directory.Exists(Path.Combine(_root, "never-stored")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static async Task<byte[]> ReadAsync(LocalDirectoryOutputStore store, string runId, string name)
    {
        await using var read = await store.OpenAsync(runId, name, CancellationToken.None);
        Assert.NotNull(read);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Reads of at most <c>chunk</c> bytes, asynchronous ones completing later; throws past <c>failAfter</c>.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk, int failAfter = int.MaxValue) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position >= failAfter)
            {
                throw new IOException("The connection was reset.");
            }

            var n = Math.Min(Math.Min(chunk, buffer.Length), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
