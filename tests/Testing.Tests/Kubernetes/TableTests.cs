using System.Text.Json.Nodes;
using ComfyOperator.Testing.Kubernetes;
using ComfyOperator.Testing.Time;

namespace ComfyOperator.Testing.Tests.Kubernetes;

public sealed class TableTests
{
    private const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    [Theory]
    [InlineData(45, "45s")]
    [InlineData(119, "119s")]
    [InlineData(200, "3m20s")]
    [InlineData(240, "4m")]
    [InlineData(15 * 60, "15m")]
    [InlineData(5 * 3600 + 600, "5h10m")]
    [InlineData(20 * 3600, "20h")]
    [InlineData(3 * 86400 + 4 * 3600, "3d4h")]
    [InlineData(40 * 86400, "40d")]
    [InlineData((2 * 365 + 10) * 86400, "2y10d")]
    [InlineData(9 * 365 * 86400, "9y")]
    public void HumanDuration_Format_MatchesKubernetes(long seconds, string expected)
    {
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void JsonPathLite_Filter_SelectsMatchingItem()
    {
        var obj = JsonNode.Parse("""{"status":{"conditions":[{"type":"Synced","status":"True"},{"type":"Ready","status":"False"}]},"metadata":{"labels":{"app.kubernetes.io/name":"x"}}}""");
        Assert.Equal("False", JsonPathLite.Text(JsonPathLite.Evaluate(obj, ".status.conditions[?(@.type==\"Ready\")].status")));
        Assert.Equal("x", JsonPathLite.Text(JsonPathLite.Evaluate(obj, ".metadata.labels['app.kubernetes.io/name']")));
        Assert.Equal("Synced", JsonPathLite.Text(JsonPathLite.Evaluate(obj, "{.status.conditions[0].type}")));
        Assert.Empty(JsonPathLite.Evaluate(obj, ".spec.missing"));
    }

    [Fact]
    public async Task List_TableAccept_PrinterColumnsTypedAndAged()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var emu = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { TimeProvider = clock });
        using var api = new ApiClient(emu.BaseAddress);
        await api.CreateCronTabCrdAsync();
        await api.PostAsync(TestCrds.CronTabsPath, TestCrds.CronTabObject("c1", extraSpec: ",\"replicas\":3"));
        await api.PatchAsync(TestCrds.CronTabsPath + "/c1/status", """{"status":{"conditions":[{"type":"Ready","status":"True"}]}}""");
        clock.Advance(TimeSpan.FromSeconds(200));

        var r = await api.GetAsync(TestCrds.CronTabsPath + "?limit=500", TableAccept);
        Assert.Equal("Table", r.Json!["kind"]!.GetValue<string>());
        var columns = r.Json!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["Name", "Spec", "Replicas", "Ready", "Image", "Age"], columns);
        Assert.Equal(1, r.Json!["columnDefinitions"]![4]!["priority"]!.GetValue<int>());
        var cells = r.Json!["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("""["c1","* * * * */5",3,"True","busybox","3m20s"]""", cells.ToJsonString());
        Assert.Equal("PartialObjectMetadata", r.Json!["rows"]![0]!["object"]!["kind"]!.GetValue<string>());

        var full = await api.GetAsync(TestCrds.CronTabsPath + "?includeObject=Object", TableAccept);
        Assert.Equal("CronTab", full.Json!["rows"]![0]!["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_CrdWithoutColumns_DefaultAgeColumn()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        var crd = JsonNode.Parse(TestCrds.CronTab)!;
        crd["spec"]!["versions"]![0]!.AsObject().Remove("additionalPrinterColumns");
        await api.CreateCronTabCrdAsync(crd.ToJsonString());
        await api.PostAsync(TestCrds.CronTabsPath, TestCrds.CronTabObject("c1"));
        var r = await api.GetAsync(TestCrds.CronTabsPath + "/c1", TableAccept);
        Assert.Equal(["Name", "Age"], r.Json!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
    }
}
