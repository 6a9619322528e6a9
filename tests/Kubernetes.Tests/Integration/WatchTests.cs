using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Watch;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class WatchTests
{
    private static ConfigMap Map(string name) => new() { Metadata = new ObjectMeta { Name = name } };

    [Fact]
    public async Task WatchNamespacedAsync_FromListVersion_SeesChangesInOrder()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.Client.CreateNamespacedAsync(Map("before"), "default");
        var list = await ctx.Client.ListNamespacedAsync<ConfigMap>("default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<WatchEvent<ConfigMap>>();

        var watching = Task.Run(async () =>
        {
            await foreach (var e in ctx.Client.WatchNamespacedAsync<ConfigMap>("default", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion }, cts.Token))
            {
                events.Add(e);
                if (e.Type == WatchEventType.Deleted)
                {
                    break;
                }
            }
        });
        await Support.Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");
        await ctx.Client.CreateNamespacedAsync(Map("w"), "default");
        await ctx.Client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Merge("""{"data":{"a":"b"}}"""), "w", "default");
        await ctx.Client.DeleteNamespacedAsync<ConfigMap>("w", "default");
        await watching;

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("w", e.Object.Metadata.Name));
        Assert.Equal("b", events[1].Object.Data!["a"]);
    }

    [Fact]
    public async Task WatchAsync_NoResourceVersion_StartsWithSyntheticAdded()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.Client.CreateNamespacedAsync(Map("x1"), "default");
        await ctx.Client.CreateNamespacedAsync(Map("x2"), "default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var names = new List<string>();

        await foreach (var e in ctx.Client.WatchAsync<ConfigMap>(new WatchOptions { LabelSelector = null }, cts.Token))
        {
            Assert.Equal(WatchEventType.Added, e.Type);
            names.Add(e.Object.Metadata.Name!);
            if (names.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(["x1", "x2"], names.Order());
    }

    [Fact]
    public async Task WatchAsync_TimeoutSeconds_EndsTheStreamCleanly()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var list = await ctx.Client.ListNamespacedAsync<ConfigMap>("default");
        var count = 0;

        await foreach (var e in ctx.Client.WatchNamespacedAsync<ConfigMap>("default", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, TimeoutSeconds = 1, AllowWatchBookmarks = false }))
        {
            count++;
        }

        Assert.Equal(0, count);
    }

    [Fact]
    public async Task WatchAsync_TooOldResourceVersion_ThrowsGone()
    {
        await using var ctx = await EmulatorContext.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = 3 });
        var list = await ctx.Client.ListNamespacedAsync<ConfigMap>("default");
        for (var i = 0; i < 10; i++)
        {
            await ctx.Client.CreateNamespacedAsync(Map($"m{i}"), "default");
        }

        var error = await Assert.ThrowsAsync<KubernetesException>(async () =>
        {
            await foreach (var _ in ctx.Client.WatchNamespacedAsync<ConfigMap>("default", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion }))
            {
            }
        });

        Assert.True(error.IsGone);
        Assert.Equal(410, error.Code);
    }

    [Fact]
    public async Task WatchAsync_FieldSelector_FiltersByName()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var list = await ctx.Client.ListNamespacedAsync<ConfigMap>("default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in ctx.Client.WatchNamespacedAsync<ConfigMap>("default", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, FieldSelector = "metadata.name=target" }, cts.Token))
            {
                seen.Add(e.Object.Metadata.Name!);
                break;
            }
        });
        await Support.Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");

        await ctx.Client.CreateNamespacedAsync(Map("other"), "default");
        await ctx.Client.CreateNamespacedAsync(Map("target"), "default");
        await watching;

        Assert.Equal(["target"], seen);
    }

    [Fact]
    public async Task WatchAsync_DroppedConnection_SurfacesAnError()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var list = await ctx.Client.ListNamespacedAsync<ConfigMap>("default");
        var watching = Task.Run(async () =>
        {
            await foreach (var _ in ctx.Client.WatchNamespacedAsync<ConfigMap>("default", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion }))
            {
            }
        });
        await Support.Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");

        ctx.Emulator.Faults.DropWatches();

        // A drop is not a clean end: the caller learns the stream broke (the informer then resumes from its last version).
        var error = await Record.ExceptionAsync(() => watching.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(error is IOException or HttpRequestException, $"unexpected {error?.GetType().Name}: {error?.Message}");
    }
}
