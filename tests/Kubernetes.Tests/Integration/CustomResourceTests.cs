using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class CustomResourceTests
{
    private static Widget NewWidget(string name, string color = "red", int replicas = 1) =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" }, Spec = new WidgetSpec { Color = color, Replicas = replicas } };

    [Fact]
    public async Task Create_CustomResource_GenerationOneAndStatusDropped()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var widget = NewWidget("w1");
        widget.Status.Phase = "ShouldBeDropped";

        var created = await new CustomResourceClient<Widget>(ctx.Client).CreateAsync(widget, "default");

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
        var widgets = new CustomResourceClient<Widget>(ctx.Client);
        var created = await widgets.CreateAsync(NewWidget("w"), "default");

        created.Spec.Color = "blue";
        created.Status.Phase = "Ready";
        created.Status.ObservedGeneration = created.Metadata.Generation;
        created.Status.Conditions = [];
        created.Status.Conditions.SetCondition("Ready", ConditionStatus.True, "Running", "all good", created.Metadata.Generation, DateTimeOffset.UtcNow);
        var afterStatus = await widgets.ReplaceStatusAsync(created);
        var patched = CustomResourceJson.Typed<Widget>(await ctx.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status":{"phase":"Busy"}}""", V1Patch.PatchType.MergePatch), "test.comfyoperator.io", "v1", "default", "widgets", "w"));
        var readStatus = await widgets.ReadAsync("w", "default");

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
        var widgets = new CustomResourceClient<Widget>(ctx.Client);
        var created = await widgets.CreateAsync(NewWidget("w"), "default");

        created.Spec.Color = "green";
        created.Status.Phase = "Ignored";
        var replaced = await widgets.ReplaceAsync(created);
        var metadataOnly = await widgets.PatchAsync(new V1Patch("""{"metadata":{"labels":{"a":"b"}}}""", V1Patch.PatchType.MergePatch), "w", "default");

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
        var widgets = new CustomResourceClient<Widget>(ctx.Client);
        var created = await widgets.CreateAsync(NewWidget("w"), "default");
        await widgets.PatchAsync(new V1Patch("""{"spec":{"color":"blue"}}""", V1Patch.PatchType.MergePatch), "w", "default");

        created.Status.Phase = "Stale";
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => widgets.ReplaceStatusAsync(created));

        Assert.True(error.IsConflict());
        Assert.False(error.IsAlreadyExists());
    }

    [Fact]
    public async Task Create_SchemaViolation_IsInvalidWithCauses()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => new CustomResourceClient<Widget>(ctx.Client).CreateAsync(NewWidget("bad", "purple", 15), "default"));

        Assert.True(error.IsInvalid());
        Assert.Equal("Invalid", error.Reason());
        var causes = error.Status()!.Details.Causes;
        Assert.Contains(causes, c => c.Field == "spec.color" && c.Reason == "FieldValueNotSupported");
        Assert.Contains(causes, c => c.Field == "spec.replicas");
    }

    [Fact]
    public async Task ScaleSubresource_ReadAndPatch_MapToSpecReplicas()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.InstallWidgetCrdAsync();
        var widgets = new CustomResourceClient<Widget>(ctx.Client);
        await widgets.CreateAsync(NewWidget("s", replicas: 2), "default");

        var scale = CustomResourceJson.Typed<V1Scale>(await ctx.Client.CustomObjects.GetNamespacedCustomObjectScaleAsync("test.comfyoperator.io", "v1", "default", "widgets", "s"));
        var patched = CustomResourceJson.Typed<V1Scale>(await ctx.Client.CustomObjects.PatchNamespacedCustomObjectScaleAsync(
            new V1Patch("""{"spec":{"replicas":5}}""", V1Patch.PatchType.MergePatch), "test.comfyoperator.io", "v1", "default", "widgets", "s"));
        var widget = await widgets.ReadAsync("s", "default");

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

        var applied = CustomResourceJson.Typed<Widget>(await ctx.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"apiVersion":"test.comfyoperator.io/v1","kind":"Widget","metadata":{"name":"ap","namespace":"default"},"spec":{"color":"green"}}""", V1Patch.PatchType.ApplyPatch),
            "test.comfyoperator.io",
            "v1",
            "default",
            "widgets",
            "ap",
            fieldManager: "comfy-operator",
            force: true));

        Assert.Equal("green", applied.Spec.Color);
        Assert.Equal(1, applied.Metadata.Generation);
    }
}
