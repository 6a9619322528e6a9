using System.Text.Json.Nodes;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>Finalizers, preconditions, garbage collection and cascades (docs/kubernetes-api.md §3.7, §3.8, §5).</summary>
public sealed class DeletionTests : IAsyncLifetime
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";
    private const string Deploys = "/apis/apps/v1/namespaces/default/deployments";
    private KubeApiEmulator _emu = null!;
    private ApiClient _api = null!;

    public async Task InitializeAsync()
    {
        _emu = await KubeApiEmulator.StartAsync();
        _api = new ApiClient(_emu.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _emu.DisposeAsync();
    }

    [Fact]
    public async Task Delete_NoFinalizers_SuccessStatusAndGone()
    {
        await _api.CreateCronTabCrdAsync();
        var created = await _api.PostAsync(TestCrds.CronTabsPath, TestCrds.CronTabObject("c1"));
        var r = await _api.DeleteAsync(TestCrds.CronTabsPath + "/c1", """{"propagationPolicy":"Background"}""");
        Assert.Equal(200, r.Code);
        Assert.Equal("Success", r.Json!["status"]!.GetValue<string>());
        Assert.Equal($$$"""{"name":"c1","group":"stable.example.com","kind":"crontabs","uid":"{{{created.Json!["metadata"]!["uid"]}}}"}""", r.Json!["details"]!.ToJsonString());
        Assert.Equal(404, (await _api.GetAsync(TestCrds.CronTabsPath + "/c1")).Code);
        Assert.Equal(404, (await _api.DeleteAsync(TestCrds.CronTabsPath + "/c1")).Code);
    }

    [Fact]
    public async Task Delete_WithFinalizer_MarkedUntilFinalizerRemoved()
    {
        await _api.CreateCronTabCrdAsync();
        await _api.PostAsync(TestCrds.CronTabsPath, TestCrds.CronTabObject("c1", extraMeta: ",\"finalizers\":[\"example.com/a\",\"example.com/b\"]"));
        await using var watch = await WatchReader.OpenAsync(_api.Http, TestCrds.CronTabsPath + "?watch=true&resourceVersion=" + _emu.ResourceVersion);

        var marked = await _api.DeleteAsync(TestCrds.CronTabsPath + "/c1");
        Assert.Equal(200, marked.Code);
        Assert.Equal("CronTab", marked.Json!["kind"]!.GetValue<string>());
        Assert.NotNull(marked.Json!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(0, marked.Json!["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());
        Assert.Equal(2, marked.Json!["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("MODIFIED", (await watch.NextAsync()).Type());

        var again = await _api.DeleteAsync(TestCrds.CronTabsPath + "/c1");
        Assert.Equal(marked.Rv, again.Rv);

        var addFinalizer = await _api.PatchAsync(TestCrds.CronTabsPath + "/c1", """{"metadata":{"finalizers":["example.com/a","example.com/b","example.com/c"]}}""");
        Assert.Equal(422, addFinalizer.Code);
        Assert.Contains("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted", addFinalizer.Message);

        var one = await _api.PatchAsync(TestCrds.CronTabsPath + "/c1", """{"metadata":{"finalizers":["example.com/b"]}}""");
        Assert.Equal(200, one.Code);
        Assert.Equal("MODIFIED", (await watch.NextAsync()).Type());
        var last = await _api.PatchAsync(TestCrds.CronTabsPath + "/c1", """{"metadata":{"finalizers":[]}}""");
        Assert.Equal(200, last.Code);
        Assert.Equal("DELETED", (await watch.NextAsync()).Type());
        Assert.Equal(404, (await _api.GetAsync(TestCrds.CronTabsPath + "/c1")).Code);
    }

    [Fact]
    public async Task Delete_Preconditions_ConflictOnMismatch()
    {
        var created = await _api.PostAsync(Cms, """{"metadata":{"name":"x"}}""");
        var wrongUid = await _api.DeleteAsync(Cms + "/x", """{"preconditions":{"uid":"nope"}}""");
        Assert.Equal(409, wrongUid.Code);
        Assert.Equal($"Operation cannot be fulfilled on configmaps \"x\": the UID in the precondition (nope) does not match the UID in record ({created.Json!["metadata"]!["uid"]}). The object might have been deleted and then recreated", wrongUid.Message);
        var wrongRv = await _api.DeleteAsync(Cms + "/x", """{"preconditions":{"resourceVersion":"1"}}""");
        Assert.Equal(409, wrongRv.Code);
        var ok = await _api.DeleteAsync(Cms + "/x", $$$"""{"preconditions":{"resourceVersion":"{{{created.Rv}}}"}}""");
        Assert.Equal(200, ok.Code);
    }

    [Fact]
    public async Task GarbageCollector_Background_DeletesDependentsWithoutOtherOwners()
    {
        var owner = await CreateDeploymentAsync("owner");
        var other = await CreateDeploymentAsync("other");
        await _api.PostAsync(Cms, Dependent("only", OwnerRef(owner)));
        await _api.PostAsync(Cms, Dependent("shared", OwnerRef(owner), OwnerRef(other)));
        await _api.PostAsync(Cms, Dependent("grandchild", OwnerRef(await _api.GetAsync(Cms + "/only"), "v1", "ConfigMap")));

        await _api.DeleteAsync(Deploys + "/owner", """{"propagationPolicy":"Background"}""");
        Assert.Equal(404, (await _api.GetAsync(Deploys + "/owner")).Code);
        Assert.Equal(404, (await _api.GetAsync(Cms + "/only")).Code);
        Assert.Equal(404, (await _api.GetAsync(Cms + "/grandchild")).Code);
        var shared = await _api.GetAsync(Cms + "/shared");
        Assert.Equal(200, shared.Code);
        Assert.Equal("other", shared.Json!["metadata"]!["ownerReferences"]!.AsArray().Single()!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task GarbageCollector_DependentCreatedForOwnerAlreadyGone_Collected_WatchSeesAddedThenDeleted()
    {
        var owner = await CreateDeploymentAsync("owner");
        var other = await CreateDeploymentAsync("other");
        await _api.DeleteAsync(Deploys + "/owner", """{"propagationPolicy":"Background"}""");
        await using var watch = await WatchReader.OpenAsync(_api.Http, Cms + "?watch=true&resourceVersion=" + _emu.ResourceVersion);

        var created = await _api.PostAsync(Cms, Dependent("late", OwnerRef(owner)));
        await _api.PostAsync(Cms, Dependent("late-shared", OwnerRef(owner), OwnerRef(other)));

        Assert.Equal(201, created.Code);
        Assert.Equal(404, (await _api.GetAsync(Cms + "/late")).Code);
        Assert.Equal("ADDED", (await watch.NextAsync()).Type());
        Assert.Equal("DELETED", (await watch.NextAsync()).Type());
        var shared = await _api.GetAsync(Cms + "/late-shared");
        Assert.Equal(200, shared.Code);
        Assert.Equal("other", shared.Json!["metadata"]!["ownerReferences"]!.AsArray().Single()!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task GarbageCollector_Foreground_OwnerWaitsForBlockingDependents()
    {
        var owner = await CreateDeploymentAsync("owner");
        await _api.PostAsync(Cms, Dependent("blocker", OwnerRef(owner, block: true), finalizer: "example.com/slow"));
        await _api.PostAsync(Cms, Dependent("plain", OwnerRef(owner)));

        var r = await _api.DeleteAsync(Deploys + "/owner", """{"propagationPolicy":"Foreground"}""");
        Assert.Equal(200, r.Code);
        var waiting = await _api.GetAsync(Deploys + "/owner");
        Assert.Contains("foregroundDeletion", waiting.Json!["metadata"]!["finalizers"]!.ToJsonString());
        Assert.Equal(404, (await _api.GetAsync(Cms + "/plain")).Code);
        Assert.NotNull((await _api.GetAsync(Cms + "/blocker")).Json!["metadata"]!["deletionTimestamp"]);

        await _api.PatchAsync(Cms + "/blocker", """{"metadata":{"finalizers":null}}""");
        Assert.Equal(404, (await _api.GetAsync(Cms + "/blocker")).Code);
        Assert.Equal(404, (await _api.GetAsync(Deploys + "/owner")).Code);
    }

    [Fact]
    public async Task GarbageCollector_Orphan_DependentsKeptWithoutReference()
    {
        var owner = await CreateDeploymentAsync("owner");
        await _api.PostAsync(Cms, Dependent("child", OwnerRef(owner)));
        var r = await _api.DeleteAsync(Deploys + "/owner", """{"propagationPolicy":"Orphan"}""");
        Assert.Equal(200, r.Code);
        Assert.Equal(404, (await _api.GetAsync(Deploys + "/owner")).Code);
        var child = await _api.GetAsync(Cms + "/child");
        Assert.Equal(200, child.Code);
        Assert.Null(child.Json!["metadata"]!["ownerReferences"]);
    }

    [Fact]
    public async Task OwnerReferences_TwoControllers_Invalid()
    {
        var a = await CreateDeploymentAsync("a");
        var b = await CreateDeploymentAsync("b");
        var r = await _api.PostAsync(Cms, Dependent("x", OwnerRef(a, controller: true), OwnerRef(b, controller: true)));
        Assert.Equal(422, r.Code);
        Assert.Contains("Only one reference can have Controller set to true", r.Message);
    }

    [Fact]
    public async Task DeleteCollection_LabelSelector_DeletesMatchingOnly()
    {
        await _api.PostAsync(Cms, """{"metadata":{"name":"a","labels":{"app":"x"}}}""");
        await _api.PostAsync(Cms, """{"metadata":{"name":"b","labels":{"app":"x"},"finalizers":["example.com/f"]}}""");
        await _api.PostAsync(Cms, """{"metadata":{"name":"c","labels":{"app":"y"}}}""");
        var r = await _api.DeleteAsync(Cms + "?labelSelector=app%3Dx");
        Assert.Equal(200, r.Code);
        Assert.Equal("ConfigMapList", r.Json!["kind"]!.GetValue<string>());
        Assert.Equal(2, r.Json!["items"]!.AsArray().Count);
        Assert.Equal(404, (await _api.GetAsync(Cms + "/a")).Code);
        Assert.NotNull((await _api.GetAsync(Cms + "/b")).Json!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(200, (await _api.GetAsync(Cms + "/c")).Code);
    }

    [Fact]
    public async Task CrdDelete_RemovesObjectsAndRoutes_RecreateStartsEmpty()
    {
        await _api.CreateCronTabCrdAsync();
        await _api.PostAsync(TestCrds.CronTabsPath, TestCrds.CronTabObject("c1"));
        var r = await _api.DeleteAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com");
        Assert.Equal(200, r.Code);
        Assert.Equal(404, (await _api.GetAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com")).Code);
        Assert.Equal(404, (await _api.GetAsync(TestCrds.CronTabsPath)).Code);
        Assert.Equal(404, (await _api.GetAsync("/apis/stable.example.com/v1")).Code);

        await _api.CreateCronTabCrdAsync();
        var list = await _api.GetAsync(TestCrds.CronTabsPath);
        Assert.Empty(list.Json!["items"]!.AsArray());
    }

    [Fact]
    public async Task NamespaceDelete_CascadesToAllKinds()
    {
        await _api.PostAsync("/api/v1/namespaces", """{"metadata":{"name":"team"}}""");
        await _api.PostAsync("/api/v1/namespaces/team/configmaps", """{"metadata":{"name":"a"}}""");
        await _api.PostAsync("/api/v1/namespaces/team/secrets", """{"metadata":{"name":"s"}}""");
        var r = await _api.DeleteAsync("/api/v1/namespaces/team");
        Assert.Equal(200, r.Code);
        Assert.Equal(404, (await _api.GetAsync("/api/v1/namespaces/team")).Code);
        Assert.Empty((await _api.GetAsync("/api/v1/secrets")).Json!["items"]!.AsArray());
    }

    private async Task<ApiResponse> CreateDeploymentAsync(string name)
    {
        var r = await _api.PostAsync(Deploys, $$$"""{"metadata":{"name":"{{{name}}}"},"spec":{"replicas":1}}""");
        Assert.Equal(201, r.Code);
        return r;
    }

    private static JsonObject OwnerRef(ApiResponse owner, string apiVersion = "apps/v1", string kind = "Deployment", bool controller = false, bool block = false) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["name"] = owner.Json!["metadata"]!["name"]!.GetValue<string>(),
        ["uid"] = owner.Json!["metadata"]!["uid"]!.GetValue<string>(),
        ["controller"] = controller,
        ["blockOwnerDeletion"] = block,
    };

    private static string Dependent(string name, JsonObject ownerA, JsonObject? ownerB = null, string? finalizer = null)
    {
        var meta = new JsonObject { ["name"] = name, ["ownerReferences"] = new JsonArray(ownerB is null ? [ownerA] : [ownerA, ownerB]) };
        if (finalizer is not null)
        {
            meta["finalizers"] = new JsonArray(finalizer);
        }

        return new JsonObject { ["metadata"] = meta }.ToJsonString();
    }

    private static string Dependent(string name, JsonObject owner, string finalizer) => Dependent(name, owner, null, finalizer);
}
