using System.Collections.Concurrent;
using ComfyOperator.Kubernetes.Informers;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class InformerTests
{
    private static V1ConfigMap Map(string name, string value = "0") =>
        new() { Metadata = new V1ObjectMeta { Name = name }, Data = new Dictionary<string, string> { ["v"] = value } };

    private static InformerOptions FastOptions(string? ns = "default") => new()
    {
        Namespace = ns,
        PageSize = 4,
        InitialBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
    };

    [Fact]
    public async Task Informer_ExistingObjects_SyncsThroughPagesAndFollowsChanges()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        for (var i = 0; i < 10; i++)
        {
            await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map($"m{i}"), "default");
        }

        var added = new ConcurrentBag<string>();
        var updated = new ConcurrentBag<(string Old, string New)>();
        var deleted = new ConcurrentBag<string>();
        await using var informer = new Informer<V1ConfigMap>(ctx.Client, FastOptions(), random: () => 0.0);
        informer.Added += m => added.Add(m.Metadata.Name!);
        informer.Updated += (o, n) => updated.Add((o.Data!["v"], n.Data!["v"]));
        informer.Deleted += m => deleted.Add(m.Metadata.Name!);
        Assert.False(informer.HasSynced);

        informer.Start();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(informer.HasSynced);
        Assert.Equal(10, informer.Count);

        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("new"), "default");
        await ctx.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"v":"1"}}""", V1Patch.PatchType.MergePatch), "m3", "default");
        await ctx.Client.CoreV1.DeleteNamespacedConfigMapAsync("m4", "default");
        await Eventually.TrueAsync(() => informer.Get("default", "m4") is null && informer.Get("default/new") is not null && informer.Get("default", "m3")?.Data!["v"] == "1", "changes reach the cache");

        Assert.Equal(11, added.Count);
        Assert.Contains(("0", "1"), updated);
        Assert.Equal(["m4"], deleted);
        Assert.Equal(10, informer.List().Count);
        Assert.Equal(1, informer.ListCount);
    }

    [Fact]
    public async Task Informer_WatchDropped_ResumesFromLastVersionWithoutRelist()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("a"), "default");
        await using var informer = new Informer<V1ConfigMap>(ctx.Client, FastOptions() with { PublishEvents = true }, random: () => 0.0);
        informer.Start();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");

        ctx.Emulator.Faults.DropWatches();
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("during-drop"), "default");
        await Eventually.TrueAsync(() => informer.Get("default/during-drop") is not null, "change made while disconnected arrives");
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("after"), "default");
        await Eventually.TrueAsync(() => informer.Get("default/after") is not null, "later change arrives");

        // Reconnected without a relist: the informer's next watch resumes from the last resourceVersion,
        // which is what the events below prove.
        Assert.Equal(1, informer.ListCount);
        Assert.Equal(1, ctx.Emulator.OpenWatchCount);
        var published = new List<InformerEvent<V1ConfigMap>>();
        while (informer.Events.TryRead(out var e))
        {
            published.Add(e);
        }

        // Resuming from the last version means no duplicate ADDED for "a".
        Assert.Equal(["a", "during-drop", "after"], published.Select(e => e.Item.Metadata.Name));
        Assert.All(published, e => Assert.Equal(InformerEventType.Added, e.Type));
    }

    [Fact]
    public async Task Informer_VersionExpiredWhileDisconnected_RelistsAndReconciles()
    {
        await using var ctx = await EmulatorContext.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = 5 });
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("keep"), "default");
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("doomed"), "default");
        var deleted = new ConcurrentBag<string>();

        // A long first backoff keeps the informer away while the history window moves on (13 writes,
        // which a loaded machine may take seconds to make).
        var options = FastOptions() with { InitialBackoff = TimeSpan.FromSeconds(8), MaxBackoff = TimeSpan.FromSeconds(8) };
        await using var informer = new Informer<V1ConfigMap>(ctx.Client, options, random: () => 0.0);
        informer.Deleted += m => deleted.Add(m.Metadata.Name!);
        informer.Start();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");
        var watchesBefore = informer.WatchCount;

        ctx.Emulator.Faults.DropWatches();
        await ctx.Client.CoreV1.DeleteNamespacedConfigMapAsync("doomed", "default");
        for (var i = 0; i < 12; i++)
        {
            await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map($"burst{i}"), "default");
        }

        Assert.Equal(watchesBefore, informer.WatchCount);
        await Eventually.TrueAsync(() => informer.ListCount == 2, "relist after 410", TimeSpan.FromSeconds(40));
        await Eventually.TrueAsync(() => informer.Count == 13, "cache holds keep + 12 burst");

        Assert.Null(informer.Get("default/doomed"));
        Assert.Contains("doomed", deleted);
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("after-relist"), "default");
        await Eventually.TrueAsync(() => informer.Get("default/after-relist") is not null, "watch resumes after relist");
    }

    [Fact]
    public async Task Informer_ServerErrors_BacksOffAndRecovers()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("a"), "default");
        ctx.Emulator.Faults.FailNext(3, 500);

        await using var informer = new Informer<V1ConfigMap>(ctx.Client, FastOptions(), random: () => 0.0);
        informer.Start();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(3, informer.FailureCount);
        Assert.NotNull(informer.Get("default/a"));
    }

    [Fact]
    public async Task Informer_HandlerThrows_KeepsRunning()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await using var informer = new Informer<V1ConfigMap>(ctx.Client, FastOptions(), random: () => 0.0);
        informer.Added += _ => throw new InvalidOperationException("handler bug");
        informer.Start();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(20));

        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("one"), "default");
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("two"), "default");

        await Eventually.TrueAsync(() => informer.Get("default/two") is not null, "second object cached despite handler failures");
    }

    [Fact]
    public async Task Informer_WatchEndsWithoutEvents_RewatchesWithoutFailureOrRelist()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        // The short-watch threshold sits below the 1 s watch timeout: the server's timer runs on a coarse
        // clock (a few ms early against the informer's stopwatch), so at the default 1 s an empty watch
        // ended on time could read as a short one.
        var options = FastOptions() with { MinWatchTimeout = TimeSpan.FromSeconds(1), ShortWatchThreshold = TimeSpan.FromMilliseconds(500) };
        await using var informer = new Informer<V1ConfigMap>(ctx.Client, options, random: () => 0.0);
        informer.Start();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(20));

        // Each watch is ended by the server after 1 s with nothing to say: the informer opens the next one.
        await Eventually.TrueAsync(() => informer.WatchCount >= 3, "the informer re-watches after empty watches end", TimeSpan.FromSeconds(30));
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(Map("late"), "default");
        await Eventually.TrueAsync(() => informer.Get("default/late") is not null, "a change after empty watches arrives");

        Assert.Equal(0, informer.FailureCount);
        Assert.Equal(1, informer.ListCount);
    }
}
