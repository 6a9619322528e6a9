using System.Net;
using System.Security.Cryptography;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Testing.Time;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Router.Tests.Inputs;

public sealed class InputCacheTests : IAsyncLifetime, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "io-cache-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<SafeHttpDownloader> _downloaders = [];
    private TestFileServer _server = null!;

    public async Task InitializeAsync() => _server = await TestFileServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        foreach (var downloader in _downloaders)
        {
            downloader.Dispose();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task GetOrDownloadAsync_TenConcurrentRequests_DownloadOnce()
    {
        var bytes = _server.AddFile("a.png", 100_000, 1);
        var cache = CreateCache();
        _server.HoldResponses();

        var requests = Enumerable.Range(0, 10)
            .Select(_ => cache.GetOrDownloadAsync("image", _server.Url("a.png"), InputKind.Image, null, pin: false, CancellationToken.None))
            .ToList();
        _server.Gate.SetResult();
        var results = await Task.WhenAll(requests);

        Assert.Equal(1, _server.Hits["a.png"]);
        Assert.Equal(1, cache.Downloads);
        Assert.All(results, result => Assert.Equal(results[0].FileName, result.FileName));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)) + ".png", results[0].FileName);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(results[0].FullPath));
    }

    [Fact]
    public async Task GetOrDownloadAsync_SecondRequest_IsCacheHit()
    {
        _server.AddFile("b.bin", 1000, 2);
        var cache = CreateCache();

        var first = await cache.GetOrDownloadAsync("file", _server.Url("b.bin"), InputKind.File, null, pin: false, CancellationToken.None);
        var second = await cache.GetOrDownloadAsync("file", _server.Url("b.bin"), InputKind.File, null, pin: false, CancellationToken.None);

        Assert.True(first.Downloaded);
        Assert.False(second.Downloaded);
        Assert.Equal(1, _server.Hits["b.bin"]);
    }

    [Fact]
    public async Task GetOrDownloadAsync_OverLimit_EvictsLeastRecentlyUsedFirst()
    {
        var cache = CreateCache(maxCacheBytes: 3500);
        var names = new[] { "1.bin", "2.bin", "3.bin" };
        var files = new List<CachedInput>();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            _server.AddFile(name, 1000, 10 + i);
            files.Add(await cache.GetOrDownloadAsync("file", _server.Url(name), InputKind.File, null, pin: false, CancellationToken.None));
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        // Using file 1 again makes file 2 the least recently used.
        await cache.GetOrDownloadAsync("file", _server.Url("1.bin"), InputKind.File, null, pin: false, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        _server.AddFile("4.bin", 1000, 14);
        await cache.GetOrDownloadAsync("file", _server.Url("4.bin"), InputKind.File, null, pin: false, CancellationToken.None);

        Assert.True(File.Exists(files[0].FullPath));
        Assert.False(File.Exists(files[1].FullPath));
        Assert.True(File.Exists(files[2].FullPath));
        Assert.Equal(3000, cache.Usage().UsedBytes);
    }

    [Fact]
    public async Task GetOrDownloadAsync_PinnedLeastRecentlyUsed_SurvivesEviction()
    {
        var cache = CreateCache(maxCacheBytes: 2500);
        _server.AddFile("p.bin", 1000, 20);
        _server.AddFile("q.bin", 1000, 21);
        _server.AddFile("r.bin", 1000, 22);
        var pinned = await cache.GetOrDownloadAsync("file", _server.Url("p.bin"), InputKind.File, null, pin: true, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        var other = await cache.GetOrDownloadAsync("file", _server.Url("q.bin"), InputKind.File, null, pin: false, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        await cache.GetOrDownloadAsync("file", _server.Url("r.bin"), InputKind.File, null, pin: false, CancellationToken.None);

        Assert.True(File.Exists(pinned.FullPath));
        Assert.False(File.Exists(other.FullPath));

        // Once unpinned it is the oldest and goes first.
        Assert.True(cache.Unpin(pinned.FileName));
        _server.AddFile("s.bin", 1000, 23);
        await cache.GetOrDownloadAsync("file", _server.Url("s.bin"), InputKind.File, null, pin: false, CancellationToken.None);
        Assert.False(File.Exists(pinned.FullPath));
    }

    [Fact]
    public async Task Constructor_IndexLost_RebuildsFromDisk()
    {
        _server.AddFile("x.png", 500, 30);
        var cache = CreateCache();
        var cached = await cache.GetOrDownloadAsync("image", _server.Url("x.png"), InputKind.Image, null, pin: false, CancellationToken.None);
        File.Delete(cache.IndexPath);

        var reopened = CreateCache();

        var usage = reopened.Usage();
        Assert.Equal(500, usage.UsedBytes);
        Assert.Equal(cached.FileName, Assert.Single(usage.Entries).FileName);
        Assert.True(File.Exists(reopened.IndexPath));
    }

    [Fact]
    public async Task GetOrDownloadAsync_Hits_UpdateTheIndexFileOnFlushNotOnEveryHit()
    {
        _server.AddFile("h.bin", 500, 32);
        using var cache = CreateCache(indexFlushInterval: TimeSpan.FromHours(1));
        await cache.GetOrDownloadAsync("file", _server.Url("h.bin"), InputKind.File, null, pin: false, CancellationToken.None);
        var written = File.GetLastWriteTimeUtc(cache.IndexPath);
        var firstUse = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(5));

        for (var i = 0; i < 50; i++)
        {
            await cache.GetOrDownloadAsync("file", _server.Url("h.bin"), InputKind.File, null, pin: false, CancellationToken.None);
        }

        Assert.Equal(written, File.GetLastWriteTimeUtc(cache.IndexPath));
        using (var before = CreateCache())
        {
            Assert.Equal(firstUse, before.Usage().Entries[0].LastUse);
        }

        cache.Flush();
        using var after = CreateCache();
        Assert.Equal(_time.GetUtcNow(), after.Usage().Entries[0].LastUse);
    }

    [Fact]
    public async Task Constructor_IndexPersisted_KeepsLastUseAndUrls()
    {
        _server.AddFile("y.bin", 500, 31);
        var cache = CreateCache();
        await cache.GetOrDownloadAsync("file", _server.Url("y.bin"), InputKind.File, null, pin: false, CancellationToken.None);

        var reopened = CreateCache();
        var again = await reopened.GetOrDownloadAsync("file", _server.Url("y.bin"), InputKind.File, null, pin: false, CancellationToken.None);

        Assert.False(again.Downloaded);
        Assert.Equal(1, _server.Hits["y.bin"]);
        Assert.Equal(_time.GetUtcNow(), reopened.Usage().Entries[0].LastUse);
    }

    [Fact]
    public async Task GetOrDownloadAsync_LargerThanDownloadLimit_Refused()
    {
        _server.AddFile("big.bin", 10_000, 40);
        var cache = CreateCache(maxDownloadBytes: 4000);

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("model", _server.Url("big.bin"), InputKind.Model, null, pin: false, CancellationToken.None));

        Assert.Equal("model", refused.InputName);
        Assert.Contains("limit", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_directory, "*.partial"));
        Assert.Equal(0, cache.Usage().Files);
    }

    [Fact]
    public async Task PutAsync_LargerThanWholeCache_RefusedClearly()
    {
        var cache = CreateCache(maxCacheBytes: 100, maxDownloadBytes: 1000);

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.PutAsync("upload", new MemoryStream(new byte[200]), ".bin", null, pin: false, CancellationToken.None));

        Assert.Contains("100 bytes", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOrDownloadAsync_Sha256Mismatch_Refused()
    {
        _server.AddFile("h.bin", 300, 50);
        var cache = CreateCache();

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("file", _server.Url("h.bin"), InputKind.File, new string('0', 64), pin: false, CancellationToken.None));

        Assert.Contains("sha256 mismatch", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, cache.Usage().Files);
    }

    [Fact]
    public async Task GetOrDownloadAsync_Sha256Matches_Stored()
    {
        var bytes = _server.AddFile("m.bin", 300, 51);
        var cache = CreateCache();

        var cached = await cache.GetOrDownloadAsync("file", _server.Url("m.bin"), InputKind.File, Convert.ToHexString(SHA256.HashData(bytes)), pin: false, CancellationToken.None);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), cached.Sha256);
    }

    [Fact]
    public async Task GetOrDownloadAsync_DataUri_StoredByHash()
    {
        var bytes = new byte[] { 137, 80, 78, 71, 1, 2, 3 };
        var cache = CreateCache();

        var cached = await cache.GetOrDownloadAsync("image", "data:image/png;base64," + Convert.ToBase64String(bytes), InputKind.Image, null, pin: false, CancellationToken.None);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)) + ".png", cached.FileName);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(cached.FullPath));
    }

    [Fact]
    public async Task GetOrDownloadAsync_WrongContentTypeForImage_Refused()
    {
        _server.AddFile("page.html", 100, 60);
        var cache = CreateCache();

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("image", _server.Url("page.html"), InputKind.Image, null, pin: false, CancellationToken.None));

        Assert.Contains("text/html", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOrDownloadAsync_LoopbackWithoutAllowList_Refused()
    {
        _server.AddFile("s.bin", 100, 70);
        var cache = CreateCache(allowLoopback: false);

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("image", _server.Url("s.bin"), InputKind.File, null, pin: false, CancellationToken.None));

        Assert.Equal("image", refused.InputName);
        Assert.Contains("127.0.0.1", refused.Reason, StringComparison.Ordinal);
        Assert.False(_server.Hits.ContainsKey("s.bin"));
    }

    [Fact]
    public async Task GetOrDownloadAsync_LocalhostName_Refused()
    {
        var cache = CreateCache(allowLoopback: false);

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("image", $"http://localhost:{_server.BaseAddress.Port}/files/s.bin", InputKind.File, null, pin: false, CancellationToken.None));

        Assert.Contains("localhost", refused.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data/")]
    [InlineData("http://10.0.0.5/x.png")]
    [InlineData("http://[::1]/x.png")]
    [InlineData("http://100.64.1.1/x.png")]
    [InlineData("http://224.0.0.1/x.png")]
    [InlineData("http://0.0.0.0/x.png")]
    [InlineData("ftp://example.com/x.png")]
    [InlineData("file:///etc/passwd")]
    public async Task GetOrDownloadAsync_ForbiddenTargets_Refused(string url)
    {
        var cache = CreateCache();

        await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("image", url, InputKind.Image, null, pin: false, CancellationToken.None));
    }

    [Fact]
    public async Task GetOrDownloadAsync_NameResolvingToPrivateAddress_Refused()
    {
        var cache = CreateCache(resolve: (_, _) => Task.FromResult(new[] { IPAddress.Parse("10.1.2.3") }));

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("lora", "http://models.example.test/lora.safetensors", InputKind.Model, null, pin: false, CancellationToken.None));

        Assert.Contains("10.1.2.3", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOrDownloadAsync_RedirectToLoopback_Refused()
    {
        var cache = CreateCache(allowed: "127.0.0.1/32");
        var target = $"http://127.0.0.2:{_server.BaseAddress.Port}/files/s.bin";

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("image", _server.BaseAddress + "redirect?to=" + Uri.EscapeDataString(target), InputKind.File, null, pin: false, CancellationToken.None));

        Assert.Contains("127.0.0.2", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOrDownloadAsync_RedirectToMetadata_Refused()
    {
        var cache = CreateCache();

        var refused = await Assert.ThrowsAsync<InputRefusedException>(() =>
            cache.GetOrDownloadAsync("image", _server.BaseAddress + "redirect?to=" + Uri.EscapeDataString("http://169.254.169.254/latest"), InputKind.File, null, pin: false, CancellationToken.None));

        Assert.Contains("metadata", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOrDownloadAsync_AllowedRedirect_Followed()
    {
        var bytes = _server.AddFile("t.bin", 100, 80);
        var cache = CreateCache();

        var cached = await cache.GetOrDownloadAsync("file", _server.BaseAddress + "redirect?to=" + Uri.EscapeDataString(_server.Url("t.bin")), InputKind.File, null, pin: false, CancellationToken.None);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(cached.FullPath));
    }

    private InputCache CreateCache(
        long maxCacheBytes = 1_000_000,
        long maxDownloadBytes = 1_000_000,
        bool allowLoopback = true,
        string? allowed = null,
        Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null,
        TimeSpan? indexFlushInterval = null)
    {
        var options = new InputCacheOptions
        {
            CacheDirectory = _directory,
            IndexFlushInterval = indexFlushInterval ?? TimeSpan.FromSeconds(1),
            MaxCacheBytes = maxCacheBytes,
            MaxDownloadBytes = maxDownloadBytes,
            DownloadTimeout = TimeSpan.FromSeconds(60),
        };
        if (allowed is not null)
        {
            options.AllowedNetworks.Add(allowed);
        }
        else if (allowLoopback)
        {
            options.AllowedNetworks.Add("127.0.0.1/32");
        }

        var downloader = new SafeHttpDownloader(options, resolve);
        _downloaders.Add(downloader);
        return new InputCache(options, downloader, _time, NullLogger<InputCache>.Instance);
    }
}
