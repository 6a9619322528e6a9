using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Nodes;

public sealed class StaticNodeSourceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("router-nodes-").FullName;

    [Fact]
    public async Task ServersFilePollInterval_Configured_IsThePollingPeriod()
    {
        var file = Path.Combine(_directory, "servers.txt");
        await File.WriteAllTextAsync(file, "http://gpu1:8188\n");
        var time = new TimerRecordingTimeProvider();

        using var source = new StaticNodeSource(Options.Create(new RouterOptions { ServersFile = file, ServersFilePollInterval = TimeSpan.FromSeconds(45) }), NullLogger<StaticNodeSource>.Instance, time);

        Assert.Contains(TimeSpan.FromSeconds(45), time.Periods);
    }

    [Fact]
    public async Task Reload_FileChanged_PublishesNewListAndRaisesChanged()
    {
        var file = Path.Combine(_directory, "servers.txt");
        await File.WriteAllTextAsync(file, "http://gpu[1-2]:8188\n");
        var options = new RouterOptions { ServersFile = file };
        options.Nodes.Add("http://fixed:8188");
        using var source = new StaticNodeSource(Options.Create(options), NullLogger<StaticNodeSource>.Instance, TimeProvider.System);
        var changed = 0;
        source.Changed += (_, _) => Interlocked.Increment(ref changed);
        Assert.Equal(["http://fixed:8188/", "http://gpu1:8188/", "http://gpu2:8188/"], source.Current.Select(n => n.BaseAddress.ToString()));

        await File.WriteAllTextAsync(file, "# grown\nhttp://gpu[1-4]:8188\n");

        await Wait.UntilAsync(() => source.Current.Count == 5, TimeSpan.FromSeconds(10), "the watcher to pick up the new servers file");
        Assert.True(Volatile.Read(ref changed) >= 1);
        Assert.Equal("file", source.Current[^1].Source);
    }

    [Fact]
    public async Task Reload_BadFile_KeepsPreviousList()
    {
        var file = Path.Combine(_directory, "servers.json");
        await File.WriteAllTextAsync(file, """["http://gpu[1-3]:8188"]""");
        using var source = new StaticNodeSource(Options.Create(new RouterOptions { ServersFile = file }), NullLogger<StaticNodeSource>.Instance, new NoTimersTimeProvider());

        await File.WriteAllTextAsync(file, """["http://gpu[3-1]:8188"]""");
        source.Reload();

        Assert.Equal(3, source.Current.Count);
    }

    [Fact]
    public async Task Reload_FileCaughtTruncatedMidWrite_NotBelievedAtFirstRead()
    {
        // Reloads are made by hand here: no debounce or poll timer may re-read the file in between.
        var file = Path.Combine(_directory, "servers.json");
        await File.WriteAllTextAsync(file, """["http://gpu[1-3]:8188"]""");
        using var source = new StaticNodeSource(Options.Create(new RouterOptions { ServersFile = file }), NullLogger<StaticNodeSource>.Instance, new NoTimersTimeProvider());

        // What a reader sees between a writer's truncate and its write.
        await File.WriteAllTextAsync(file, string.Empty);
        source.Reload();
        Assert.Equal(3, source.Current.Count);

        await File.WriteAllTextAsync(file, """["http://gpu[3-1]:8188"]""");
        source.Reload();
        Assert.Equal(3, source.Current.Count);
    }

    [Fact]
    public async Task Reload_FileLeftEmpty_BelievedOnSecondLook_OnlyConfiguredNodesLeft()
    {
        var file = Path.Combine(_directory, "servers.txt");
        await File.WriteAllTextAsync(file, "http://gpu[1-3]:8188\n");
        var options = new RouterOptions { ServersFile = file };
        options.Nodes.Add("http://fixed:8188");
        using var source = new StaticNodeSource(Options.Create(options), NullLogger<StaticNodeSource>.Instance, TimeProvider.System);

        await File.WriteAllTextAsync(file, string.Empty);

        await Wait.UntilAsync(() => source.Current.Count == 1, TimeSpan.FromSeconds(10), "the emptied file to be believed");
        Assert.Equal("http://fixed:8188/", source.Current[0].BaseAddress.ToString());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
