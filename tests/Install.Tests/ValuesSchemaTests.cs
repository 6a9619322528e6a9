namespace ComfyOperator.Install.Tests;

/// <summary>values.schema.json makes the install refuse bad values, naming the bad setting.</summary>
public sealed class ValuesSchemaTests
{
    [Theory]
    [InlineData("router: {replicas: 2}", "router.replicas: Must be less than or equal to 1")]
    [InlineData("router: {image: {pullPolicy: Sometimes}}", "router.image.pullPolicy: must be one of the following")]
    [InlineData("routr: {replicas: 1}", "Additional property routr is not allowed")]
    [InlineData("router: {service: {port: \"eighty\"}}", "router.service.port: Invalid type. Expected: integer, given: string")]
    [InlineData("router: {service: {port: 70000}}", "router.service.port: Must be less than or equal to 65535")]
    [InlineData("cache: {size: lots}", "cache.size: Does not match pattern")]
    [InlineData("cache: {accessModes: []}", "cache.accessModes: Array must have at least 1 items")]
    [InlineData("router: {nodeSource: Consul}", "router.nodeSource: must be one of the following: Kubernetes, Static")]
    [InlineData("router: {outputs: {store: S3, s3: {endpoint: \"s3.example.com\", bucket: b}}}", "router.outputs.s3.endpoint: Does not match pattern")]
    [InlineData("router: {settings: {runTimeout: \"30 minutes\"}}", "router.settings.runTimeout: Does not match pattern")]
    [InlineData("router: {auth: {apiKeys: [short]}}", "router.auth.apiKeys[0]: String length must be greater than or equal to 16")]
    [InlineData("operator: {watchNamespaces: [Team_A]}", "operator.watchNamespaces[0]: Does not match pattern")]
    [InlineData("rbac: {clusterWide: \"yes\"}", "rbac.clusterWide: Invalid type. Expected: boolean, given: string")]
    [InlineData("operator: null", "(root): operator is required")]
    public async Task Render_BadValues_RejectedBySchemaNamingTheSetting(string values, string expected)
    {
        var result = await ChartRenderer.RenderWithValuesAsync(values);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("values don't meet the specifications of the schema", result.StdErr, StringComparison.Ordinal);
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public async Task Render_ValidOverrides_AcceptedBySchema()
    {
        var result = await ChartRenderer.RenderWithValuesAsync("""
            router:
              replicas: 1
              service: {type: LoadBalancer, port: 80}
              settings: {runTimeout: "1.02:00:00", placementPolicy: RoundRobin}
              extraSettings: {HISTORY_MAX_AGE: "7.00:00:00", PROBE_TIMEOUT: "00:00:03"}
            cache: {size: 1Ti, accessModes: [ReadWriteMany], maxInputCacheBytes: 1099511627776}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var settings = Tree.Map(ManifestSet.Parse(result.StdOut).Single("ConfigMap", "comfy-comfy-router-settings").Root, "data");
        Assert.Equal("1099511627776", settings["COMFY_ROUTER__INPUTS__MAX_CACHE_BYTES"]);
        Assert.Equal("7.00:00:00", settings["COMFY_ROUTER__HISTORY_MAX_AGE"]);
        Assert.Equal("RoundRobin", settings["COMFY_ROUTER__PLACEMENT_POLICY"]);
    }
}
