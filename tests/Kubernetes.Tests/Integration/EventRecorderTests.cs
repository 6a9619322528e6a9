using ComfyOperator.Kubernetes.Events;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Time;
using k8s;
using k8s.Models;
using OfficialConfiguration = k8s.KubernetesClientConfiguration;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class EventRecorderTests
{
    private static k8s.Kubernetes Official(EmulatorContext ctx) => new(new OfficialConfiguration { Host = ctx.Emulator.BaseAddress.ToString() });

    [Fact]
    public async Task RecordAsync_RepeatsInWindow_AggregateIntoOneEventWithCount()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var client = Official(ctx);
        var pod = await ctx.Client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = "worker" }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] } }, "default");
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var recorder = new EventRecorder(client, new EventRecorderOptions { Component = "comfy-operator", Instance = "op-0" }, timeProvider: time);

        await recorder.RecordAsync(pod, EventType.Warning, "ProbeFailed", "connection refused");
        time.Advance(TimeSpan.FromSeconds(30));
        await recorder.RecordAsync(pod, EventType.Warning, "ProbeFailed", "connection refused");
        time.Advance(TimeSpan.FromSeconds(30));
        await recorder.RecordAsync(pod, EventType.Warning, "ProbeFailed", "connection refused");
        await recorder.RecordAsync(pod, EventType.Normal, "Started", "pod started");
        var events = await client.CoreV1.ListNamespacedEventAsync("default");

        Assert.Equal(2, events.Items.Count);
        var probe = Assert.Single(events.Items, e => e.Reason == "ProbeFailed");
        Assert.Equal(3, probe.Count);
        Assert.Equal(TimeSpan.FromMinutes(1), probe.LastTimestamp - probe.FirstTimestamp);
        Assert.Equal("Warning", probe.Type);
        Assert.Equal("Pod", probe.InvolvedObject.Kind);
        Assert.Equal(pod.Metadata.Uid, probe.InvolvedObject.Uid);
        Assert.Equal("comfy-operator", probe.Source!.Component);
        Assert.StartsWith("worker.", probe.Metadata.Name);
        Assert.Equal(1, Assert.Single(events.Items, e => e.Reason == "Started").Count);
    }

    [Fact]
    public async Task RecordAsync_AfterWindow_StartsANewEvent()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var client = Official(ctx);
        var map = await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "cfg" } }, "default");
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var recorder = new EventRecorder(client, new EventRecorderOptions { Component = "c", AggregationWindow = TimeSpan.FromMinutes(1) }, timeProvider: time);

        await recorder.RecordAsync(map, EventType.Normal, "Synced", "ok");
        time.Advance(TimeSpan.FromMinutes(2));
        await recorder.RecordAsync(map, EventType.Normal, "Synced", "ok");

        var events = await client.CoreV1.ListNamespacedEventAsync("default");
        Assert.Equal(2, events.Items.Count);
        Assert.All(events.Items, e => Assert.Equal(1, e.Count));
    }

    [Fact]
    public async Task RecordAsync_EventDeletedMeanwhile_CreatesAFreshOne()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        using var client = Official(ctx);
        var map = await ctx.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "cfg" } }, "default");
        using var recorder = new EventRecorder(client, new EventRecorderOptions { Component = "c" });
        await recorder.RecordAsync(map, EventType.Normal, "Synced", "ok");
        var first = Assert.Single((await client.CoreV1.ListNamespacedEventAsync("default")).Items);
        await client.CoreV1.DeleteNamespacedEventAsync(first.Metadata.Name, "default");

        await recorder.RecordAsync(map, EventType.Normal, "Synced", "ok");

        var again = Assert.Single((await client.CoreV1.ListNamespacedEventAsync("default")).Items);
        Assert.Equal(1, again.Count);
    }
}
