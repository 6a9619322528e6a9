using System.Text.RegularExpressions;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

public sealed class CrudTests : IAsyncLifetime
{
    private const string Path = TestCrds.CronTabsPath;
    private KubeApiEmulator _emu = null!;
    private ApiClient _api = null!;

    public async Task InitializeAsync()
    {
        _emu = await KubeApiEmulator.StartAsync();
        _api = new ApiClient(_emu.BaseAddress);
        await _api.CreateCronTabCrdAsync();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _emu.DisposeAsync();
    }

    [Fact]
    public async Task Create_CustomResource_SetsServerMetadata()
    {
        var r = await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraMeta: ""","uid":"mine","generation":7"""));
        Assert.Equal(201, r.Code);
        var meta = r.Json!["metadata"]!;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", meta["uid"]!.GetValue<string>());
        Assert.Equal(1, meta["generation"]!.GetValue<long>());
        Assert.Equal("default", meta["namespace"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", meta["creationTimestamp"]!.GetValue<string>());
        Assert.True(long.Parse(meta["resourceVersion"]!.GetValue<string>()) > 0);
        Assert.Equal("stable.example.com/v1", r.Json!["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_ResourceVersion_GlobalAndIncreasing()
    {
        var a = await _api.PostAsync(Path, TestCrds.CronTabObject("a"));
        var cm = await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"x"}}""");
        var b = await _api.PostAsync(Path, TestCrds.CronTabObject("b"));
        Assert.True(long.Parse(a.Rv) < long.Parse(cm.Rv));
        Assert.True(long.Parse(cm.Rv) < long.Parse(b.Rv));
    }

    [Fact]
    public async Task Create_Duplicate_AlreadyExistsStatus()
    {
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var r = await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        Assert.Equal(409, r.Code);
        Assert.Equal("AlreadyExists", r.Reason);
        Assert.Equal("crontabs.stable.example.com \"c1\" already exists", r.Message);
        Assert.Equal("""{"name":"c1","group":"stable.example.com","kind":"crontabs"}""", r.Json!["details"]!.ToJsonString());
    }

    [Fact]
    public async Task Get_Missing_NotFoundStatus()
    {
        var r = await _api.GetAsync(Path + "/nope");
        Assert.Equal(404, r.Code);
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"crontabs.stable.example.com \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"stable.example.com","kind":"crontabs"},"code":404}""", r.Text);
        var core = await _api.GetAsync("/api/v1/namespaces/default/configmaps/nope");
        Assert.Equal("configmaps \"nope\" not found", core.Message);
    }

    [Fact]
    public async Task Create_GenerateName_AppendsFiveCharacters()
    {
        var r = await _api.PostAsync(Path, """{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"generateName":"job-"},"spec":{"cronSpec":"* * * * *"}}""");
        Assert.Equal(201, r.Code);
        Assert.Matches("^job-[bcdfghjklmnpqrstvwxz2456789]{5}$", r.Json!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_InvalidName_InvalidWithSubdomainMessage()
    {
        var r = await _api.PostAsync(Path, TestCrds.CronTabObject("Bad_Name"));
        Assert.Equal(422, r.Code);
        Assert.StartsWith("CronTab.stable.example.com \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of", r.Message);
        Assert.Equal("FieldValueInvalid", r.Json!["details"]!["causes"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal("CronTab", r.Json!["details"]!["kind"]!.GetValue<string>());

        var missing = await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{}}""");
        Assert.Equal("ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required", missing.Message);

        var svc = await _api.PostAsync("/api/v1/namespaces/default/services", """{"metadata":{"name":"a.b"}}""");
        Assert.Contains("a lowercase RFC 1123 label must consist of", svc.Message);
    }

    [Fact]
    public async Task Create_NamespaceRules_MissingTerminatingAndMismatch()
    {
        var missing = await _api.PostAsync("/api/v1/namespaces/ghost/configmaps", """{"metadata":{"name":"x"}}""");
        Assert.Equal(404, missing.Code);
        Assert.Equal("namespaces \"ghost\" not found", missing.Message);

        var mismatch = await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"x","namespace":"kube-system"}}""");
        Assert.Equal(400, mismatch.Code);
        Assert.Equal("the namespace of the provided object does not match the namespace sent on the request", mismatch.Message);

        var wrongVersion = await _api.PostAsync(Path, """{"apiVersion":"stable.example.com/v2","kind":"CronTab","metadata":{"name":"v"}}""");
        Assert.Equal(400, wrongVersion.Code);
        Assert.Equal("the API version in the data (stable.example.com/v2) does not match the expected API version (stable.example.com/v1)", wrongVersion.Message);

        var protectedNs = await _api.DeleteAsync("/api/v1/namespaces/default");
        Assert.Equal(403, protectedNs.Code);
        Assert.Equal("namespaces \"default\" is forbidden: this namespace may not be deleted", protectedNs.Message);
    }

    [Fact]
    public async Task Create_InTerminatingNamespace_Forbidden()
    {
        await _api.PostAsync("/api/v1/namespaces", """{"metadata":{"name":"doomed"}}""");
        await _api.PostAsync("/api/v1/namespaces/doomed/configmaps", """{"metadata":{"name":"held","finalizers":["example.com/hold"]}}""");
        var del = await _api.DeleteAsync("/api/v1/namespaces/doomed");
        Assert.Equal(200, del.Code);
        Assert.Equal("Terminating", (await _api.GetAsync("/api/v1/namespaces/doomed")).Json!["status"]!["phase"]!.GetValue<string>());
        var r = await _api.PostAsync("/api/v1/namespaces/doomed/configmaps", """{"metadata":{"name":"late"}}""");
        Assert.Equal(403, r.Code);
        Assert.Equal("configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated", r.Message);

        await _api.PatchAsync("/api/v1/namespaces/doomed/configmaps/held", """{"metadata":{"finalizers":null}}""");
        Assert.Equal(404, (await _api.GetAsync("/api/v1/namespaces/doomed")).Code);
    }

    [Fact]
    public async Task Put_StaleResourceVersion_Conflict()
    {
        var created = await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var body = created.Json!.AsObject();
        body["spec"]!["image"] = "nginx";
        var ok = await _api.PutAsync(Path + "/c1", body.ToJsonString());
        Assert.Equal(200, ok.Code);
        Assert.Equal(2, ok.Json!["metadata"]!["generation"]!.GetValue<long>());

        var stale = await _api.PutAsync(Path + "/c1", body.ToJsonString());
        Assert.Equal(409, stale.Code);
        Assert.Equal("Conflict", stale.Reason);
        Assert.Equal("Operation cannot be fulfilled on crontabs.stable.example.com \"c1\": the object has been modified; please apply your changes to the latest version and try again", stale.Message);
    }

    [Fact]
    public async Task Put_CustomResourceWithoutResourceVersion_Invalid()
    {
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var r = await _api.PutAsync(Path + "/c1", TestCrds.CronTabObject("c1"));
        Assert.Equal(422, r.Code);
        Assert.Equal("CronTab.stable.example.com \"c1\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update", r.Message);

        await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"cm"},"data":{"a":"1"}}""");
        var builtIn = await _api.PutAsync("/api/v1/namespaces/default/configmaps/cm", """{"metadata":{"name":"cm"},"data":{"a":"2"}}""");
        Assert.Equal(200, builtIn.Code);
    }

    [Fact]
    public async Task Put_NameMismatch_BadRequest()
    {
        var created = await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var body = created.Json!.AsObject();
        body["metadata"]!["name"] = "other";
        var r = await _api.PutAsync(Path + "/c1", body.ToJsonString());
        Assert.Equal(400, r.Code);
        Assert.Equal("the name of the object (other) does not match the name on the URL (c1)", r.Message);
    }

    [Fact]
    public async Task Update_NoChange_KeepsResourceVersion()
    {
        var created = await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var patched = await _api.PatchAsync(Path + "/c1", """{"spec":{"image":"busybox"}}""");
        Assert.Equal(created.Rv, patched.Rv);
    }

    [Fact]
    public async Task StatusSubresource_MainIgnoresStatus_StatusIgnoresSpec_GenerationOnlyForSpec()
    {
        var created = await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: "", extraMeta: "").Replace("}}", "},\"status\":{\"replicas\":9}}", StringComparison.Ordinal));
        Assert.Null(created.Json!["status"]);

        var status = await _api.PutAsync(Path + "/c1/status", $$$"""{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c1","resourceVersion":"{{{created.Rv}}}","labels":{"x":"y"}},"spec":{"image":"ignored"},"status":{"replicas":3}}""");
        Assert.Equal(200, status.Code);
        Assert.Equal(3, status.Json!["status"]!["replicas"]!.GetValue<long>());
        Assert.Equal("busybox", status.Json!["spec"]!["image"]!.GetValue<string>());
        Assert.Null(status.Json!["metadata"]!["labels"]);
        Assert.Equal(1, status.Json!["metadata"]!["generation"]!.GetValue<long>());

        var main = await _api.PatchAsync(Path + "/c1", """{"status":{"replicas":5},"metadata":{"labels":{"a":"b"}}}""");
        Assert.Equal(3, main.Json!["status"]!["replicas"]!.GetValue<long>());
        Assert.Equal(1, main.Json!["metadata"]!["generation"]!.GetValue<long>());

        var spec = await _api.PatchAsync(Path + "/c1", """{"spec":{"image":"nginx"}}""");
        Assert.Equal(2, spec.Json!["metadata"]!["generation"]!.GetValue<long>());

        var statusPatch = await _api.PatchAsync(Path + "/c1/status", """{"status":{"replicas":4}}""");
        Assert.Equal(4, statusPatch.Json!["status"]!["replicas"]!.GetValue<long>());
        Assert.Equal(2, statusPatch.Json!["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task Scale_GetAndPut_MapsSpecAndStatusPaths()
    {
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: ",\"replicas\":2"));
        await _api.PatchAsync(Path + "/c1/status", """{"status":{"replicas":2,"selector":"app=c1"}}""");
        var scale = await _api.GetAsync(Path + "/c1/scale");
        Assert.Equal("Scale", scale.Json!["kind"]!.GetValue<string>());
        Assert.Equal("autoscaling/v1", scale.Json!["apiVersion"]!.GetValue<string>());
        Assert.Equal(2, scale.Json!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("app=c1", scale.Json!["status"]!["selector"]!.GetValue<string>());

        var put = await _api.PutAsync(Path + "/c1/scale", """{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"c1"},"spec":{"replicas":5}}""");
        Assert.Equal(200, put.Code);
        Assert.Equal(5, put.Json!["spec"]!["replicas"]!.GetValue<long>());
        var obj = await _api.GetAsync(Path + "/c1");
        Assert.Equal(5, obj.Json!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal(2, obj.Json!["metadata"]!["generation"]!.GetValue<long>());

        var tooBig = await _api.PatchAsync(Path + "/c1/scale", """{"spec":{"replicas":50}}""");
        Assert.Equal(422, tooBig.Code);
    }

    [Fact]
    public async Task Scale_Deployment_SelectorFromMatchLabels()
    {
        await _api.PostAsync("/apis/apps/v1/namespaces/default/deployments", """{"metadata":{"name":"d"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"d"}}}}""");
        var r = await _api.PatchAsync("/apis/apps/v1/namespaces/default/deployments/d/scale", """{"spec":{"replicas":3}}""");
        Assert.Equal(3, r.Json!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("app=d", r.Json!["status"]!["selector"]!.GetValue<string>());
        Assert.Equal(2, (await _api.GetAsync("/apis/apps/v1/namespaces/default/deployments/d")).Json!["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task Patch_JsonPatchAndMergePatch_Applied()
    {
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: ",\"tags\":[\"a\"]"));
        var json = await _api.PatchAsync(Path + "/c1", """[{"op":"add","path":"/spec/tags/-","value":"b"},{"op":"replace","path":"/spec/image","value":"nginx"},{"op":"test","path":"/spec/image","value":"nginx"}]""", "application/json-patch+json");
        Assert.Equal(200, json.Code);
        Assert.Equal("""["a","b"]""", json.Json!["spec"]!["tags"]!.ToJsonString());

        var failedTest = await _api.PatchAsync(Path + "/c1", """[{"op":"test","path":"/spec/image","value":"other"}]""", "application/json-patch+json");
        Assert.Equal(422, failedTest.Code);

        var merge = await _api.PatchAsync(Path + "/c1", """{"spec":{"tags":null,"mode":"Fast"}}""");
        Assert.Null(merge.Json!["spec"]!["tags"]);
        Assert.Equal("Fast", merge.Json!["spec"]!["mode"]!.GetValue<string>());

        var withRv = await _api.PatchAsync(Path + "/c1", """{"metadata":{"resourceVersion":"1"},"spec":{"mode":"Slow"}}""");
        Assert.Equal(409, withRv.Code);
    }

    [Fact]
    public async Task Patch_StrategicOnCustomResource_UnsupportedMediaType()
    {
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var r = await _api.PatchAsync(Path + "/c1", """{"spec":{"image":"x"}}""", "application/strategic-merge-patch+json");
        Assert.Equal(415, r.Code);
        Assert.Equal("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml", r.Message);
        var force = await _api.SendAsync(HttpMethod.Patch, Path + "/c1?force=true", "{}", "application/merge-patch+json");
        Assert.Equal(422, force.Code);
        Assert.Equal("force: Forbidden: may not be specified for non-apply patch", force.Message);
    }

    [Fact]
    public async Task Patch_StrategicOnDeployment_MergesContainersByName()
    {
        await _api.PostAsync("/apis/apps/v1/namespaces/default/deployments", """
            {"metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"}]},{"name":"b","image":"b:1"}]}}}}
            """);
        var r = await _api.PatchAsync("/apis/apps/v1/namespaces/default/deployments/d", """
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"a","image":"a:2","env":[{"name":"Y","value":"2"}]},{"name":"b","$patch":"delete"}]}}}}
            """, "application/strategic-merge-patch+json");
        Assert.Equal(200, r.Code);
        var containers = r.Json!["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Single(containers);
        Assert.Equal("a:2", containers[0]!["image"]!.GetValue<string>());
        Assert.Equal("""[{"name":"X","value":"1"},{"name":"Y","value":"2"}]""", containers[0]!["env"]!.ToJsonString());
        Assert.Null(r.Json!["spec"]!["template"]!["spec"]!["$setElementOrder/containers"]);
    }

    [Fact]
    public async Task ApplyPatch_MissingObject_CreatesAndRequiresFieldManager()
    {
        var noManager = await _api.PatchAsync(Path + "/c9", TestCrds.CronTabObject("c9"), "application/apply-patch+yaml");
        Assert.Equal(422, noManager.Code);
        Assert.Contains("fieldManager: Required value: is required for apply patch", noManager.Message);

        var created = await _api.SendAsync(HttpMethod.Patch, Path + "/c9?fieldManager=test&force=true", "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: c9\nspec:\n  cronSpec: '* * * * *'\n  replicas: 3\n", "application/apply-patch+yaml");
        Assert.Equal(201, created.Code);
        Assert.Equal(3, created.Json!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("test", created.Json!["metadata"]!["managedFields"]![0]!["manager"]!.GetValue<string>());

        // The manager sends its whole configuration again: a field it leaves out would be removed.
        var updated = await _api.SendAsync(HttpMethod.Patch, Path + "/c9?fieldManager=test&force=true", """{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c9"},"spec":{"cronSpec":"* * * * *","replicas":4}}""", "application/apply-patch+yaml");
        Assert.Equal(200, updated.Code);
        Assert.Equal(4, updated.Json!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("* * * * *", updated.Json!["spec"]!["cronSpec"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_SelectorsAndPaging_ConsistentResourceVersion()
    {
        for (var i = 0; i < 5; i++)
        {
            await _api.PostAsync(Path, TestCrds.CronTabObject($"c{i}", extraMeta: $$""","labels":{"tier":"{{(i % 2 == 0 ? "even" : "odd")}}","idx":"{{i}}"}"""));
        }

        await _api.PostAsync(Path, TestCrds.CronTabObject("nolabel"));

        async Task<List<string>> Names(string query)
        {
            var r = await _api.GetAsync(Path + query);
            Assert.True(r.Code == 200, r.Text);
            return r.Json!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).ToList();
        }

        Assert.Equal(["c0", "c2", "c4"], await Names("?labelSelector=tier%3Deven"));
        Assert.Equal(["c0", "c2", "c4"], await Names("?labelSelector=tier%3D%3Deven"));
        Assert.Equal(["c1", "c3", "nolabel"], await Names("?labelSelector=tier!%3Deven"));
        Assert.Equal(["c1", "c2"], await Names("?labelSelector=idx%20in%20(1,2)"));
        Assert.Equal(["c0", "c3", "c4", "nolabel"], await Names("?labelSelector=idx%20notin%20(1,2)"));
        Assert.Equal(["nolabel"], await Names("?labelSelector=!tier"));
        Assert.Equal(5, (await Names("?labelSelector=tier")).Count);
        Assert.Equal(["c3"], await Names("?labelSelector=tier%3Dodd,idx%3D3"));
        Assert.Equal(["c2"], await Names("?fieldSelector=metadata.name%3Dc2"));
        Assert.Equal(5, (await Names("?fieldSelector=metadata.name!%3Dc2")).Count);
        Assert.Equal(6, (await Names("?fieldSelector=metadata.namespace%3Ddefault")).Count);

        var badField = await _api.GetAsync(Path + "?fieldSelector=spec.image%3Dx");
        Assert.Equal(400, badField.Code);
        var badLabel = await _api.GetAsync(Path + "?labelSelector=a%20in%20b");
        Assert.Equal(400, badLabel.Code);

        var page1 = await _api.GetAsync(Path + "?limit=4");
        Assert.Equal(4, page1.Json!["items"]!.AsArray().Count);
        Assert.Equal(2, page1.Json!["metadata"]!["remainingItemCount"]!.GetValue<long>());
        var token = page1.Json!["metadata"]!["continue"]!.GetValue<string>();
        await _api.PostAsync(Path, TestCrds.CronTabObject("zz"));
        var page2 = await _api.GetAsync(Path + "?limit=4&continue=" + Uri.EscapeDataString(token));
        Assert.Equal(page1.Rv, page2.Rv);
        Assert.Null(page2.Json!["metadata"]!["continue"]);
        Assert.Equal(["c4", "nolabel", "zz"], page2.Json!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal("CronTabList", page2.Json!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_AllNamespaces_IncludesEveryNamespace()
    {
        await _api.PostAsync("/api/v1/namespaces", """{"metadata":{"name":"other"}}""");
        await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"a"}}""");
        await _api.PostAsync("/api/v1/namespaces/other/configmaps", """{"metadata":{"name":"b"}}""");
        var all = await _api.GetAsync("/api/v1/configmaps");
        Assert.Equal(2, all.Json!["items"]!.AsArray().Count);
        Assert.Equal("ConfigMapList", all.Json!["kind"]!.GetValue<string>());
        var post = await _api.PostAsync("/api/v1/configmaps", """{"metadata":{"name":"c"}}""");
        Assert.Equal(405, post.Code);
    }

    [Fact]
    public async Task EventsApis_ShareOneStore()
    {
        var core = await _api.PostAsync("/api/v1/namespaces/default/events", """{"metadata":{"name":"ABCDEF0123"},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},"reason":"Started","message":"hi","type":"Normal","count":1}""");
        Assert.Equal(201, core.Code);
        var other = await _api.GetAsync("/apis/events.k8s.io/v1/namespaces/default/events/ABCDEF0123");
        Assert.Equal(200, other.Code);
        Assert.Equal("events.k8s.io/v1", other.Json!["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lease_MicroTimeRoundTrips_OptimisticConcurrency()
    {
        var created = await _api.PostAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases", """{"metadata":{"name":"op-leader"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"renewTime":"2025-01-02T03:04:05.123456Z"}}""");
        Assert.Equal("2025-01-02T03:04:05.123456Z", created.Json!["spec"]!["renewTime"]!.GetValue<string>());
        var body = created.Json!.AsObject();
        body["spec"]!["holderIdentity"] = "b";
        Assert.Equal(200, (await _api.PutAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases/op-leader", body.ToJsonString())).Code);
        Assert.Equal(409, (await _api.PutAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases/op-leader", body.ToJsonString())).Code);
    }

    [Fact]
    public async Task WriteCount_CountsSuccessfulMutations()
    {
        var before = _emu.WriteCount;
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        await _api.PatchAsync(Path + "/c1", """{"spec":{"image":"nginx"}}""");
        await _api.GetAsync(Path + "/c1");
        await _api.DeleteAsync(Path + "/c1");
        Assert.Equal(before + 3, _emu.WriteCount);
    }

    [Fact]
    public async Task DryRun_Create_NotStored()
    {
        var r = await _api.PostAsync(Path + "?dryRun=All", TestCrds.CronTabObject("dry"));
        Assert.True(r.Code is 200 or 201);
        Assert.Equal(404, (await _api.GetAsync(Path + "/dry")).Code);
    }

    [Fact]
    public async Task Create_ProtobufBody_UnsupportedMediaType()
    {
        var r = await _api.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", "k8s\0", "application/vnd.kubernetes.protobuf");
        Assert.Equal(415, r.Code);
        Assert.Matches(new Regex("unknown format"), r.Message!);
    }
}
