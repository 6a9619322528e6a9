using System.Security.Cryptography;
using ComfyOperator.Entities;
using ComfyOperator.Operator.Cli;
using ComfyOperator.Operator.Models;

namespace ComfyOperator.Operator.Tests.Models;

public sealed class ModelSynchronizerTests : IAsyncLifetime
{
    private static readonly ModelSyncOptions FastOptions = new()
    {
        RetryDelay = TimeSpan.FromMilliseconds(10),
        LockHeartbeat = TimeSpan.FromMilliseconds(20),
        StaleLockAfter = TimeSpan.FromSeconds(30),
        ReadTimeout = TimeSpan.FromSeconds(10),
    };

    private readonly string _cache = Directory.CreateTempSubdirectory("comfy-cache-").FullName;
    private readonly StringWriter _log = new();
    private ModelFileServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await ModelFileServer.StartAsync();
        _http = new HttpClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    private static byte[] Data(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        return data;
    }

    private ModelFile Serve(string name, byte[] data, bool withHash = true)
    {
        _server.Files[name] = data;
        return new ModelFile
        {
            Url = _server.Url(name),
            Folder = "checkpoints",
            Filename = name,
            Sha256 = withHash ? Convert.ToHexStringLower(SHA256.HashData(data)) : null,
        };
    }

    private ModelSynchronizer Synchronizer(TextWriter? log = null) => new(_http, FastOptions, TimeProvider.System, log ?? _log);

    private string CachePath(string name) => Path.Combine(_cache, "checkpoints", name);

    [Fact]
    public async Task SyncAsync_NewFile_DownloadsVerifiesAndRenamesIntoPlace()
    {
        var data = Data(300_000);
        var model = Serve("sd15.safetensors", data);

        var result = Assert.Single(await Synchronizer().SyncAsync([model], _cache, CancellationToken.None));

        Assert.Equal(ModelSyncOutcome.Downloaded, result.Outcome);
        Assert.Equal(data, await File.ReadAllBytesAsync(CachePath("sd15.safetensors")));
        Assert.Equal(["sd15.safetensors", "sd15.safetensors.sha256"], Directory.GetFiles(Path.Combine(_cache, "checkpoints")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task SyncAsync_FileAlreadyVerified_DoesNotDownloadAgain()
    {
        var model = Serve("a.safetensors", Data(10_000));
        await Synchronizer().SyncAsync([model], _cache, CancellationToken.None);

        var second = Assert.Single(await Synchronizer().SyncAsync([model], _cache, CancellationToken.None));

        Assert.Equal(ModelSyncOutcome.Present, second.Outcome);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task SyncAsync_ConnectionDropsMidway_ResumesWithRangeRequest()
    {
        var data = Data(500_000);
        var model = Serve("big.safetensors", data);
        _server.CutNextRequests = 1;
        _server.CutAfterBytes = 200_000;

        var result = Assert.Single(await Synchronizer().SyncAsync([model], _cache, CancellationToken.None));

        Assert.Equal(ModelSyncOutcome.Downloaded, result.Outcome);
        Assert.Equal(data, await File.ReadAllBytesAsync(CachePath("big.safetensors")));
        var requests = _server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal("", requests[0]);
        Assert.Matches("^bytes=[1-9][0-9]*-$", requests[1]);
        Assert.Contains("resuming big.safetensors", _log.ToString().Replace("checkpoints/", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncAsync_ChecksumMismatch_FailsNamingBothHashesAndLeavesNothing()
    {
        var model = Serve("bad.safetensors", Data(20_000));
        model.Sha256 = new string('0', 64);

        var result = Assert.Single(await Synchronizer().SyncAsync([model], _cache, CancellationToken.None));

        Assert.Equal(ModelSyncOutcome.Failed, result.Outcome);
        Assert.Contains("sha256 mismatch", result.Error, StringComparison.Ordinal);
        Assert.Contains(new string('0', 64), result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_cache, "checkpoints")));
    }

    [Fact]
    public async Task SyncAsync_NotFound_FailsAtOnceNamingUrlAndStatus()
    {
        var model = new ModelFile { Url = _server.Url("missing.safetensors"), Folder = "loras", Filename = "missing.safetensors" };

        var result = Assert.Single(await Synchronizer().SyncAsync([model], _cache, CancellationToken.None));

        Assert.Equal(ModelSyncOutcome.Failed, result.Outcome);
        Assert.Contains("HTTP 404", result.Error, StringComparison.Ordinal);
        Assert.Contains(model.Url, result.Error, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task SyncAsync_TwoPodsSameFile_DownloadedOnlyOnce()
    {
        var data = Data(640 * 1024);
        var model = Serve("shared.safetensors", data);
        _server.ChunkDelay = TimeSpan.FromMilliseconds(30);

        var results = await Task.WhenAll(
            Synchronizer(new StringWriter()).SyncAsync([model], _cache, CancellationToken.None),
            Synchronizer(new StringWriter()).SyncAsync([model], _cache, CancellationToken.None));

        Assert.Single(_server.Requests);
        var outcomes = results.Select(r => Assert.Single(r).Outcome).Order().ToList();
        Assert.Equal([ModelSyncOutcome.Downloaded, ModelSyncOutcome.DownloadedByPeer], outcomes);
        Assert.Equal(data, await File.ReadAllBytesAsync(CachePath("shared.safetensors")));
        Assert.False(File.Exists(CachePath("shared.safetensors.lock")));
    }

    [Fact]
    public async Task SyncAsync_StaleLockFromDeadPod_IsTakenOver()
    {
        var model = Serve("orphan.safetensors", Data(5_000));
        Directory.CreateDirectory(Path.Combine(_cache, "checkpoints"));
        var lockPath = CachePath("orphan.safetensors.lock");
        await File.WriteAllTextAsync(lockPath, "dead-pod 1");
        File.SetLastWriteTimeUtc(lockPath, TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(-10));

        var result = Assert.Single(await Synchronizer().SyncAsync([model], _cache, CancellationToken.None));

        Assert.Equal(ModelSyncOutcome.Downloaded, result.Outcome);
        Assert.Contains("stale lock", _log.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("checkpoints", "../escape.bin")]
    [InlineData("checkpoints", "/etc/passwd")]
    [InlineData("..", "x.bin")]
    [InlineData("a/b", "x.bin")]
    public void ResolvePath_NameLeavingTheCache_IsRejected(string folder, string filename)
    {
        var model = new ModelFile { Url = "http://x/y", Folder = folder, Filename = filename };

        Assert.Throws<ModelSyncException>(() => ModelSynchronizer.ResolvePath(_cache, model));
    }

    [Fact]
    public void ResolvePath_SubFolderInFilename_StaysInsideTheFolder()
    {
        var path = ModelSynchronizer.ResolvePath(_cache, new ModelFile { Url = "http://x/y", Folder = "checkpoints", Filename = "SDXL/base.safetensors" });

        Assert.Equal(Path.Combine(_cache, "checkpoints", "SDXL", "base.safetensors"), path);
    }

    [Fact]
    public async Task SyncModelsVerb_OneFileMissing_ExitsOneAndNamesIt()
    {
        var good = Serve("good.safetensors", Data(1_000));
        var manifest = Path.Combine(_cache, "models.json");
        await File.WriteAllTextAsync(
            manifest,
            $$"""[{"url":"{{good.Url}}","folder":"checkpoints","filename":"good.safetensors","sha256":"{{good.Sha256}}"}, {"url":"{{_server.Url("gone.bin")}}","folder":"vae","filename":"gone.bin"}]""");
        var output = new StringWriter();

        var parse = OperatorCommands.Build().Parse(["sync-models", "--manifest", manifest, "--cache", _cache]);
        parse.InvocationConfiguration.Output = output;
        var exit = await parse.InvokeAsync();

        Assert.Equal(1, exit);
        Assert.Contains("1 of 2 files", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("FAILED vae/gone.bin", output.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(CachePath("good.safetensors")));
    }

    [Fact]
    public async Task SyncModelsVerb_AllPresent_ExitsZero()
    {
        var good = Serve("ok.safetensors", Data(1_000));
        var manifest = Path.Combine(_cache, "models.json");
        await File.WriteAllTextAsync(manifest, $$"""[{"url":"{{good.Url}}","folder":"checkpoints","filename":"ok.safetensors"}]""");

        var parse = OperatorCommands.Build().Parse(["sync-models", "--manifest", manifest, "--cache", _cache]);
        parse.InvocationConfiguration.Output = new StringWriter();

        Assert.Equal(0, await parse.InvokeAsync());
    }
}
