using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

public sealed class ClientCrudTests
{
    private static ConfigMap Map(string name, string value, IDictionary<string, string>? labels = null) =>
        new() { Metadata = new ObjectMeta { Name = name, Labels = labels }, Data = new Dictionary<string, string> { ["k"] = value } };

    [Fact]
    public async Task ConfigMap_CreateReadReplaceDelete_RoundTrips()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var client = ctx.Client;

        var created = await client.CreateNamespacedAsync(Map("a", "1"), "default");
        var read = await client.ReadNamespacedAsync<ConfigMap>("a", "default");
        read.Data!["k"] = "2";
        var replaced = await client.ReplaceNamespacedAsync(read, "a", "default");
        var deleted = await client.DeleteNamespacedAsync<ConfigMap>("a", "default");
        var missing = await Assert.ThrowsAsync<KubernetesException>(() => client.ReadNamespacedAsync<ConfigMap>("a", "default"));

        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal("default", created.Metadata.NamespaceProperty);
        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal("2", replaced.Data!["k"]);
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);
        Assert.Null(deleted);
        Assert.True(missing.IsNotFound);
        Assert.Equal("NotFound", missing.Reason);
    }

    [Fact]
    public async Task Create_ExistingName_IsAlreadyExists()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.Client.CreateNamespacedAsync(Map("dup", "1"), "default");

        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.CreateNamespacedAsync(Map("dup", "2"), "default"));

        Assert.True(error.IsAlreadyExists);
        Assert.False(error.IsConflict);
        Assert.Equal(409, error.Code);
    }

    [Fact]
    public async Task Replace_StaleResourceVersion_IsConflict()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var first = await ctx.Client.CreateNamespacedAsync(Map("c", "1"), "default");
        var stale = await ctx.Client.ReadNamespacedAsync<ConfigMap>("c", "default");
        first.Data!["k"] = "winner";
        await ctx.Client.ReplaceNamespacedAsync(first, "c", "default");

        stale.Data!["k"] = "loser";
        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.ReplaceNamespacedAsync(stale, "c", "default"));

        Assert.True(error.IsConflict);
        Assert.Contains("the object has been modified", error.Status.Message);
        Assert.Equal("winner", (await ctx.Client.ReadNamespacedAsync<ConfigMap>("c", "default")).Data!["k"]);
    }

    [Fact]
    public async Task Patch_MergeAndJson_ApplyToTheStoredObject()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        await ctx.Client.CreateNamespacedAsync(Map("p", "1"), "default");

        await ctx.Client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Merge(new { metadata = new { labels = new Dictionary<string, string> { ["x"] = "y" } }, data = new { extra = "e" } }), "p", "default");
        var patched = await ctx.Client.PatchNamespacedAsync<ConfigMap>(
            KubernetesPatch.Json("""[{"op":"replace","path":"/data/k","value":"json"},{"op":"remove","path":"/data/extra"}]"""), "p", "default");
        var nullRemoves = await ctx.Client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Merge("""{"metadata":{"labels":{"x":null}}}"""), "p", "default");

        Assert.Equal("y", patched.Metadata.Labels!["x"]);
        Assert.Equal(new Dictionary<string, string> { ["k"] = "json" }, patched.Data);
        Assert.False(nullRemoves.Metadata.Labels?.ContainsKey("x") ?? false);
    }

    [Fact]
    public async Task Patch_MissingObject_IsNotFound()
    {
        await using var ctx = await EmulatorContext.StartAsync();

        var error = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Merge("{}"), "none", "default"));

        Assert.True(error.IsNotFound);
    }

    [Fact]
    public async Task ApplyPatch_Missing_CreatesThenMerges()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var apply = new ConfigMap { Metadata = new ObjectMeta { Name = "ssa", NamespaceProperty = "default" }, Data = new Dictionary<string, string> { ["a"] = "1" } };

        var created = await ctx.Client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Apply(apply), "ssa", "default", fieldManager: "comfy-operator", force: true);
        apply.Data = new Dictionary<string, string> { ["b"] = "2" };
        var merged = await ctx.Client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Apply(apply), "ssa", "default", fieldManager: "comfy-operator", force: true);

        Assert.Equal("1", created.Data!["a"]);
        Assert.Equal("2", merged.Data!["b"]);
        Assert.Equal(created.Metadata.Uid, merged.Metadata.Uid);
    }

    [Fact]
    public async Task List_SelectorsAndPages_FilterAndContinue()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        for (var i = 0; i < 7; i++)
        {
            await ctx.Client.CreateNamespacedAsync(Map($"m{i}", $"{i}", new Dictionary<string, string> { ["parity"] = i % 2 == 0 ? "even" : "odd" }), "default");
        }

        var even = await ctx.Client.ListNamespacedAsync<ConfigMap>("default", new ListOptions { LabelSelector = "parity=even" });
        var byName = await ctx.Client.ListNamespacedAsync<ConfigMap>("default", new ListOptions { FieldSelector = "metadata.name=m3" });
        var names = new List<string>();
        var versions = new HashSet<string?>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await ctx.Client.ListNamespacedAsync<ConfigMap>("default", new ListOptions { Limit = 3, Continue = token, LabelSelector = "parity" });
            names.AddRange(page.Items.Select(i => i.Metadata.Name!));
            versions.Add(page.Metadata.ResourceVersion);
            token = page.Metadata.Continue;
            pages++;
        }
        while (!string.IsNullOrEmpty(token));

        Assert.Equal(4, even.Items.Count);
        Assert.All(even.Items, m => Assert.Equal("even", m.Metadata.Labels!["parity"]));
        Assert.Equal("m3", Assert.Single(byName.Items).Metadata.Name);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"m{i}").Order(), names.Order());
        Assert.Single(versions);
    }

    [Fact]
    public async Task ClusterScoped_NamespaceLifecycle_Works()
    {
        await using var ctx = await EmulatorContext.StartAsync();

        var created = await ctx.Client.CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = "team-a", Labels = new Dictionary<string, string> { ["team"] = "a" } } });
        var listed = await ctx.Client.ListAsync<Namespace>(new ListOptions { LabelSelector = "team=a" });
        await ctx.Client.CreateNamespacedAsync(Map("inside", "1"), "team-a");
        var acrossNamespaces = await ctx.Client.ListAsync<ConfigMap>();

        Assert.Equal("team-a", created.Metadata.Name);
        Assert.Equal("team-a", Assert.Single(listed.Items).Metadata.Name);
        Assert.Contains(acrossNamespaces.Items, m => m.Metadata.NamespaceProperty == "team-a" && m.Metadata.Name == "inside");
    }

    [Fact]
    public async Task Delete_WithFinalizer_MarksThenRemovesWhenFinalizerIsCleared()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var map = Map("fin", "1");
        map.Metadata.Finalizers = ["comfyoperator.io/cleanup"];
        await ctx.Client.CreateNamespacedAsync(map, "default");

        var marked = await ctx.Client.DeleteNamespacedAsync<ConfigMap>("fin", "default");
        var stillThere = await ctx.Client.ReadNamespacedAsync<ConfigMap>("fin", "default");
        stillThere.Metadata.RemoveFinalizer("comfyoperator.io/cleanup");
        await ctx.Client.ReplaceNamespacedAsync(stillThere, "fin", "default");

        Assert.NotNull(marked);
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.NotNull(stillThere.Metadata.DeletionTimestamp);
        Assert.True((await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.ReadNamespacedAsync<ConfigMap>("fin", "default"))).IsNotFound);
    }

    [Fact]
    public async Task Delete_PreconditionsAndPropagation_AreSentAndHonoured()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var created = await ctx.Client.CreateNamespacedAsync(Map("pre", "1"), "default");

        var wrongUid = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.DeleteNamespacedAsync<ConfigMap>(
            "pre", "default", new DeleteOptions { Preconditions = new Preconditions { Uid = "not-the-uid" } }));
        var wrongVersion = await Assert.ThrowsAsync<KubernetesException>(() => ctx.Client.DeleteNamespacedAsync<ConfigMap>(
            "pre", "default", new DeleteOptions { Preconditions = new Preconditions { ResourceVersion = "1" } }));
        var foreground = await ctx.Client.DeleteNamespacedAsync<ConfigMap>(
            "pre", "default", new DeleteOptions { PropagationPolicy = PropagationPolicy.Foreground, Preconditions = new Preconditions { Uid = created.Metadata.Uid }, GracePeriodSeconds = 0 });

        Assert.True(wrongUid.IsConflict);
        Assert.True(wrongVersion.IsConflict);

        // Foreground keeps the object (with the foregroundDeletion finalizer) until the GC has no dependents left to wait for.
        Assert.NotNull(foreground);
        Assert.Contains("foregroundDeletion", foreground.Metadata.Finalizers ?? []);
        Assert.NotNull(foreground.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task OwnerReference_OwnerDeleted_DependentIsCollected()
    {
        await using var ctx = await EmulatorContext.StartAsync();
        var owner = await ctx.Client.CreateNamespacedAsync(Map("owner", "1"), "default");
        var dependent = Map("dependent", "1");
        dependent.Metadata.NamespaceProperty = "default";
        dependent.Metadata.SetControllerReference(owner);
        await ctx.Client.CreateNamespacedAsync(dependent, "default");

        await ctx.Client.DeleteNamespacedAsync<ConfigMap>("owner", "default", new DeleteOptions { PropagationPolicy = PropagationPolicy.Background });

        await Support.Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await ctx.Client.ReadNamespacedAsync<ConfigMap>("dependent", "default");
                    return false;
                }
                catch (KubernetesException e) when (e.IsNotFound)
                {
                    return true;
                }
            },
            "dependent garbage-collected");
    }
}
