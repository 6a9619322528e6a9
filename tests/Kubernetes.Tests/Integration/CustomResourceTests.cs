using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class CustomResourceTests
{
    private static Widget NewWidget(string name, string color = "red", int replicas = 1) =>
        new() { Metadata = new ObjectMeta { Name = name }, Spec = new WidgetSpec { Color = color, Replicas = replicas } };

    [Fact]
    public async Task Create_CustomResource_GenerationOneAndStatusDropped()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var widget = NewWidget("w1");
        widget.Status.Phase = "ShouldBeDropped";

        var created = await ctx.Client.CreateNamespacedAsync(widget, "default");

        Assert.Equal("test.comfyoperator.io/v1", created.ApiVersion);
        Assert.Equal("Widget", created.Kind);
        Assert.Equal(1, created.Metadata.Generation);
        Assert.Null(created.Status.Phase);
        Assert.Equal("red", created.Spec.Color);
    }

    [Fact]
    public async Task StatusSubresource_ReplaceAndPatch_ChangeOnlyStatusWithoutGenerationBump()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var created = await ctx.Client.CreateNamespacedAsync(NewWidget("w"), "default");

        created.Spec.Color = "blue";
        created.Status.Phase = "Ready";
        created.Status.ObservedGeneration = created.Metadata.Generation;
        created.Status.Conditions = [];
        created.Status.Conditions.SetCondition("Ready", ConditionStatus.True, "Running", "all good", created.Metadata.Generation, DateTimeOffset.UtcNow);
        var afterStatus = await ctx.Client.ReplaceNamespacedStatusAsync(created, "w", "default");
        var patched = await ctx.Client.PatchNamespacedStatusAsync<Widget>(KubernetesPatch.Merge(new { status = new { phase = "Busy" } }), "w", "default");
        var readStatus = await ctx.Client.ReadNamespacedStatusAsync<Widget>("w", "default");

        Assert.Equal("red", afterStatus.Spec.Color);
        Assert.Equal("Ready", afterStatus.Status.Phase);
        Assert.True(afterStatus.Status.Conditions.IsConditionTrue("Ready"));
        Assert.Equal(1, afterStatus.Metadata.Generation);
        Assert.Equal("Busy", patched.Status.Phase);
        Assert.Equal("Busy", readStatus.Status.Phase);
        Assert.Equal(1, readStatus.Metadata.Generation);
    }

    [Fact]
    public async Task MainEndpoint_SpecChange_BumpsGenerationAndIgnoresStatus()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var created = await ctx.Client.CreateNamespacedAsync(NewWidget("w"), "default");

        created.Spec.Color = "green";
        created.Status.Phase = "Ignored";
        var replaced = await ctx.Client.ReplaceNamespacedAsync(created, "w", "default");
        var metadataOnly = await ctx.Client.PatchNamespacedAsync<Widget>(KubernetesPatch.Merge("""{"metadata":{"labels":{"a":"b"}}}"""), "w", "default");

        Assert.Equal(2, replaced.Metadata.Generation);
        Assert.Equal("green", replaced.Spec.Color);
        Assert.Null(replaced.Status.Phase);
        Assert.Equal(2, metadataOnly.Metadata.Generation);
    }

    [Fact]
    public async Task StatusReplace_StaleResourceVersion_IsConflict()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var created = await ctx.Client.CreateNamespacedAsync(NewWidget("w"), "default");
        await ctx.Client.PatchNamespacedAsync<Widget>(KubernetesPatch.Merge("""{"spec":{"color":"blue"}}"""), "w", "default");

        created.Status.Phase = "Stale";
        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.ReplaceNamespacedStatusAsync(created, "w", "default"));

        Assert.True(error.IsConflict);
    }

    [Fact]
    public async Task Create_SchemaViolation_IsInvalidWithCauses()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();

        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.CreateNamespacedAsync(NewWidget("bad", "purple", 15), "default"));

        Assert.True(error.IsInvalid);
        Assert.Equal("Invalid", error.Reason);
        Assert.Contains(error.Causes, c => c.Field == "spec.color" && c.Reason == "FieldValueNotSupported");
        Assert.Contains(error.Causes, c => c.Field == "spec.replicas");
    }

    [Fact]
    public async Task ScaleSubresource_ReadAndPatch_MapToSpecReplicas()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        await ctx.Client.CreateNamespacedAsync(NewWidget("s", replicas: 2), "default");

        var scale = await ctx.Client.ReadNamespacedScaleAsync<Widget>("s", "default");
        var patched = await ctx.Client.PatchNamespacedScaleAsync<Widget>(KubernetesPatch.Merge(new { spec = new { replicas = 5 } }), "s", "default");
        var widget = await ctx.Client.ReadNamespacedAsync<Widget>("s", "default");

        Assert.Equal("Scale", scale.Kind);
        Assert.Equal(2, scale.Spec.Replicas);
        Assert.Equal(5, patched.Spec.Replicas);
        Assert.Equal(5, widget.Spec.Replicas);
    }

    [Fact]
    public async Task ApplyPatch_CustomResource_CreatesWithFieldManager()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();

        var applied = await ctx.Client.PatchNamespacedAsync<Widget>(
            KubernetesPatch.Apply(new { apiVersion = "test.comfyoperator.io/v1", kind = "Widget", metadata = new { name = "ap", @namespace = "default" }, spec = new { color = "green" } }),
            "ap",
            "default",
            fieldManager: "comfy-operator",
            force: true);

        Assert.Equal("green", applied.Spec.Color);
        Assert.Equal(1, applied.Metadata.Generation);
    }
}
