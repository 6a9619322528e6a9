using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

public sealed class DiscoveryTests
{
    [Fact]
    public async Task Version_Get_ReportsKubernetes132()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        var r = await api.GetAsync("/version");
        Assert.Equal(200, r.Code);
        Assert.Equal("1", r.Json!["major"]!.GetValue<string>());
        Assert.Equal("32", r.Json!["minor"]!.GetValue<string>());
    }

    [Fact]
    public async Task Discovery_AggregatedAcceptHeader_AnswersLegacyJson()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        var accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await api.Http.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());

        var api0 = await api.GetAsync("/api");
        Assert.Equal("APIVersions", api0.Json!["kind"]!.GetValue<string>());
        var groups = await api.GetAsync("/apis");
        Assert.Equal("APIGroupList", groups.Json!["kind"]!.GetValue<string>());
        var names = groups.Json!["groups"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("apps", names);
        Assert.Contains("coordination.k8s.io", names);
        Assert.Contains("rbac.authorization.k8s.io", names);
        Assert.Contains("apiextensions.k8s.io", names);
    }

    [Fact]
    public async Task ResourceList_CoreV1_ListsKindsAndSubresources()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        var r = await api.GetAsync("/api/v1");
        Assert.Equal("APIResourceList", r.Json!["kind"]!.GetValue<string>());
        var resources = r.Json!["resources"]!.AsArray();
        var names = resources.Select(x => x!["name"]!.GetValue<string>()).ToList();
        foreach (var n in new[] { "namespaces", "pods", "pods/status", "services", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts", "events" })
        {
            Assert.Contains(n, names);
        }

        var scale = (await api.GetAsync("/apis/apps/v1")).Json!["resources"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "deployments/scale");
        Assert.Equal("autoscaling", scale!["group"]!.GetValue<string>());
        Assert.Equal("Scale", scale!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task CrdCreate_GroupServedImmediately_WithStatusAndScaleEntries()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        Assert.Equal(404, (await api.GetAsync("/apis/stable.example.com/v1")).Code);
        await api.CreateCronTabCrdAsync();

        var group = await api.GetAsync("/apis/stable.example.com");
        Assert.Equal("stable.example.com/v1", group.Json!["preferredVersion"]!["groupVersion"]!.GetValue<string>());
        var list = await api.GetAsync("/apis/stable.example.com/v1");
        var entries = list.Json!["resources"]!.AsArray().ToDictionary(x => x!["name"]!.GetValue<string>(), x => x!);
        Assert.Equal("""["delete","deletecollection","get","list","patch","create","update","watch"]""", entries["crontabs"]["verbs"]!.ToJsonString());
        Assert.Equal("""["ct"]""", entries["crontabs"]["shortNames"]!.ToJsonString());
        Assert.Equal("""["get","patch","update"]""", entries["crontabs/status"]["verbs"]!.ToJsonString());
        Assert.Equal("autoscaling", entries["crontabs/scale"]["group"]!.GetValue<string>());
        Assert.Equal(200, (await api.GetAsync(TestCrds.CronTabsPath)).Code);

        var crd = await api.GetAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com");
        var conditions = crd.Json!["status"]!["conditions"]!.AsArray();
        Assert.Contains(conditions, c => c!["type"]!.GetValue<string>() == "Established" && c["status"]!.GetValue<string>() == "True");
        Assert.Contains(conditions, c => c!["type"]!.GetValue<string>() == "NamesAccepted" && c["reason"]!.GetValue<string>() == "NoConflicts");
        Assert.Equal("""["v1"]""", crd.Json!["status"]!["storedVersions"]!.ToJsonString());
    }

    [Fact]
    public async Task UnknownRoute_Get_ExactNotFoundStatus()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        var r = await api.GetAsync("/apis/nope.example.com/v1/things");
        Assert.Equal(404, r.Code);
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}""", r.Text);
    }

    [Fact]
    public async Task OpenApiV3_RootAndCoreDocument_DeclareFieldValidationOnNamespacePatch()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        var root = await api.GetAsync("/openapi/v3");
        var url = root.Json!["paths"]!["api/v1"]!["serverRelativeURL"]!.GetValue<string>();
        var doc = await api.GetAsync(url);
        var op = doc.Json!["paths"]!["/api/v1/namespaces/{name}"]!["patch"]!;
        Assert.Equal("Namespace", op["x-kubernetes-group-version-kind"]!["kind"]!.GetValue<string>());
        Assert.Equal("fieldValidation", op["parameters"]![0]!["name"]!.GetValue<string>());
        var policy = (await api.GetAsync(root.Json!["paths"]!["apis/policy/v1"]!["serverRelativeURL"]!.GetValue<string>())).Json!;
        Assert.Equal("PodDisruptionBudget", policy["paths"]!["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}"]!["patch"]!["x-kubernetes-group-version-kind"]!["kind"]!.GetValue<string>());
        Assert.NotNull(root.Json!["paths"]!["apis/networking.k8s.io/v1"]);
    }
}
