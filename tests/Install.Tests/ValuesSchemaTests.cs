namespace ComfyOperator.Install.Tests;

/// <summary>values.schema.json makes the install refuse bad values, naming the bad setting.</summary>
public sealed class ValuesSchemaTests
{
    [Theory]
    [InlineData("router: {replicas: 2}", "at '/router/store/kind': value must be 'postgres'")]
    [InlineData("router: {replicas: 2, store: {kind: sqlite}}", "at '/router/store/kind': value must be 'postgres'")]
    [InlineData("router: {replicas: 6, store: {kind: postgres, existingSecret: db}, persistence: {accessMode: ReadWriteMany}}", "at '/router/replicas': maximum: got 6, want 5")]
    [InlineData("router: {store: {kind: postgres}}", "at '/router/store/existingSecret': minLength: got 0, want 1")]
    [InlineData("router: {store: {kind: mysql}}", "at '/router/store/kind': value must be one of 'sqlite', 'postgres'")]
    [InlineData("router: {store: {kind: postgres, existingSecret: db, replicaMode: both}}", "at '/router/store/replicaMode': value must be one of 'standby', 'active'")]
    [InlineData("router: {replicas: 2, store: {kind: postgres, existingSecret: db}}", "at '/router/persistence/accessMode': value must be 'ReadWriteMany'")]
    [InlineData("postgresql: {enabled: true, database: Router-DB}", "at '/postgresql/database': 'Router-DB' does not match pattern")]
    [InlineData("router: {image: {pullPolicy: Sometimes}}", "at '/router/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'")]
    [InlineData("routr: {replicas: 1}", "at '': additional properties 'routr' not allowed")]
    [InlineData("router: {service: {port: \"eighty\"}}", "at '/router/service/port': got string, want integer")]
    [InlineData("router: {service: {port: 70000}}", "at '/router/service/port': maximum: got 70,000, want 65,535")]
    [InlineData("cache: {size: lots}", "at '/cache/size': 'lots' does not match pattern")]
    [InlineData("cache: {accessModes: []}", "at '/cache/accessModes': minItems: got 0, want 1")]
    [InlineData("router: {nodeSource: Consul}", "at '/router/nodeSource': value must be one of 'Kubernetes', 'Static'")]
    [InlineData("router: {outputs: {store: S3, s3: {endpoint: \"s3.example.com\", bucket: b}}}", "at '/router/outputs/s3/endpoint': 's3.example.com' does not match pattern")]
    [InlineData("router: {settings: {runTimeout: \"30 minutes\"}}", "at '/router/settings/runTimeout': '30 minutes' does not match pattern")]
    [InlineData("router: {auth: {apiKeys: [short]}}", "at '/router/auth/apiKeys/0': minLength: got 5, want 16")]
    [InlineData("operator: {watchNamespaces: [Team_A]}", "at '/operator/watchNamespaces/0': 'Team_A' does not match pattern")]
    [InlineData("rbac: {clusterWide: \"yes\"}", "at '/rbac/clusterWide': got string, want boolean")]
    [InlineData("operator: null", "at '': missing property 'operator'")]
    public async Task Render_BadValues_RejectedBySchemaNamingTheSetting(string values, string expected)
    {
        var result = await Helm.TemplateWithValuesAsync(values);
        Assert.False(result.Succeeded, result.ToString());
        Assert.Contains("values don't meet the specifications of the schema(s) in the following chart(s):\ncomfy-router:", result.StdErr, StringComparison.Ordinal);
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public async Task Render_ValidOverrides_AcceptedBySchema()
    {
        var result = await Helm.TemplateWithValuesAsync("""
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
