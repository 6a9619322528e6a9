using System.Diagnostics;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Informers;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

/// <summary>The list/watch pairs informers run on, against the emulator through the official client.</summary>
public sealed class ListWatchTests
{
    private static Widget NewWidget(string name, string color = "red") =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" }, Spec = new WidgetSpec { Color = color } };

    [Fact]
    public async Task CustomResources_FromListVersion_SeeTypedChangesInOrder()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var widgets = new CustomResourceClient<Widget>(ctx.Client);
        await widgets.CreateAsync(NewWidget("before"), "default");
        var listWatch = ListWatch.For<Widget>(ctx.Client, "default");
        var page = await listWatch.ListAsync(null, null, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<(WatchEventType Type, Widget Widget)>();
        var errors = new List<Exception>();

        var watching = Task.Run(async () =>
        {
            await foreach (var e in listWatch.WatchAsync(page.ResourceVersion, 60, errors.Add, cts.Token))
            {
                events.Add(e);
                if (e.Type == WatchEventType.Deleted)
                {
                    break;
                }
            }
        });
        await Support.Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");
        await widgets.CreateAsync(NewWidget("w"), "default");
        await widgets.PatchAsync(new V1Patch("""{"spec":{"color":"blue"}}""", V1Patch.PatchType.MergePatch), "w", "default");
        await widgets.DeleteAsync("w", "default");
        await watching;

        Assert.Equal(["before"], page.Items.Select(w => w.Metadata.Name));
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("w", e.Widget.Metadata.Name));
        Assert.Equal("blue", events[1].Widget.Spec.Color);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Watch_LastsPastTheClientsHttpTimeout()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var client = ctx.NewClient(timeout: TimeSpan.FromSeconds(1));
        var listWatch = ListWatch.For<V1ConfigMap>(client, "default");
        var page = await listWatch.ListAsync(null, null, CancellationToken.None);
        var errors = new List<Exception>();
        var clock = Stopwatch.StartNew();

        // The server ends this watch after 4 s; a client that applied its 1 s request timeout to the
        // stream would cut it (or throw) long before.
        var names = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (_, map) in listWatch.WatchAsync(page.ResourceVersion, 4, errors.Add, CancellationToken.None))
            {
                names.Add(map.Metadata.Name);
            }
        });
        await Support.Eventually.TrueAsync(() => ctx.Emulator.OpenWatchCount == 1, "watch open");
        await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "early" } }, "default");
        await watching.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3), $"the watch ended after {clock.Elapsed}");
        Assert.Equal(["early"], names);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Watch_TooOldResourceVersion_ReportsGone()
    {
        await using var ctx = await EmulatorContext.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = 3 });
        var listWatch = ListWatch.For<V1ConfigMap>(ctx.Client, "default");
        var old = (await listWatch.ListAsync(null, null, CancellationToken.None)).ResourceVersion;
        for (var i = 0; i < 6; i++)
        {
            await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"m{i}" } }, "default");
        }

        var errors = new List<Exception>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var thrown = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in listWatch.WatchAsync(old, 10, errors.Add, cts.Token))
            {
                // Nothing arrives before the ERROR event.
            }
        });

        // The emulator answers 410 either as the response or as an ERROR event on the stream, as a real
        // API server does; the informer relists on both.
        var gone = thrown is k8s.Autorest.HttpOperationException api ? api.IsGone() : errors.OfType<KubernetesException>().Any(e => e.IsGone());
        Assert.True(gone, $"thrown: {thrown}; errors: {string.Join("; ", errors)}");
    }
}
