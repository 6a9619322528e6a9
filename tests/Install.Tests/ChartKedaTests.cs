using System.Text;

namespace ComfyOperator.Install.Tests;

/// <summary>The chart's KEDA option: ScaledObjects for clusters that already run KEDA, checked against KEDA's CRD schema.</summary>
public sealed class ChartKedaTests
{
    private static readonly Lazy<StructuralSchema> s_scaledObjectSchema = new(() =>
        StructuralSchema.Load(RepoPaths.Combine("tests", "Install.Tests", "TestData", "keda-scaledobject-v2.20.2.schema.yaml")));

    private const string TwoWorkflows = """
        keda:
          enabled: true
          scaledObjects:
            - {name: painter, minReplicaCount: 0, maxReplicaCount: 3, targetPendingPerReplica: 2, pollingInterval: 10, cooldownPeriod: 120}
            - {name: upscaler, namespace: team-a, minReplicaCount: 1, maxReplicaCount: 4, targetPendingPerReplica: 1}
        """;

    [Fact]
    public async Task Render_DefaultValues_NoKedaObjects()
    {
        var manifests = await Helm.TemplateManifestsAsync();

        Assert.DoesNotContain(manifests.Items, m => m.ApiVersion.StartsWith("keda.sh/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Render_KedaEnabled_EveryScaledObjectValidAgainstKedasCrdSchema()
    {
        foreach (var extra in new[] { "", "keda: {prometheusServerAddress: http://prometheus.monitoring.svc:9090}" })
        {
            var scaledObjects = (await RenderAsync(TwoWorkflows, extra)).OfKind("ScaledObject").ToList();

            Assert.Equal(2, scaledObjects.Count);
            Assert.All(scaledObjects, so =>
            {
                Assert.Empty(s_scaledObjectSchema.Value.Validate(so.Yaml));
                // The CRD's one CEL rule, which the schema check does not evaluate.
                Assert.True(int.Parse((string)so.Get("spec.minReplicaCount")!) <= int.Parse((string)so.Get("spec.maxReplicaCount")!));
            });
        }
    }

    [Fact]
    public void Validate_ObjectsKedaWouldRefuse_NamesEachProblem()
    {
        const string Valid = """
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata: {name: painter}
            spec:
              scaleTargetRef: {apiVersion: comfyoperator.io/v1alpha1, kind: WorkflowDeployment, name: painter}
              minReplicaCount: 0
              triggers:
                - type: metrics-api
                  metadata: {targetValue: "2"}
            """;
        var schema = s_scaledObjectSchema.Value;

        Assert.Empty(schema.Validate(Valid));
        Assert.Equal(["spec.minReplicaCount: string, wanted integer"], schema.Validate(Valid.Replace("minReplicaCount: 0", "minReplicaCount: \"0\"", StringComparison.Ordinal)));
        Assert.Equal(["spec.triggers[0].metadata.targetValue: integer, wanted string"], schema.Validate(Valid.Replace("\"2\"", "2", StringComparison.Ordinal)));
        Assert.Equal(["spec.minReplicas: not a field of the schema"], schema.Validate(Valid.Replace("minReplicaCount", "minReplicas", StringComparison.Ordinal)));
        Assert.Equal(["spec.scaleTargetRef.name: required"], schema.Validate(Valid.Replace(", name: painter}", "}", StringComparison.Ordinal)));
        Assert.Contains("spec.triggers: required", schema.Validate(Valid[..Valid.IndexOf("  triggers:", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task Render_KedaWithoutPrometheus_MetricsApiOnTheRoutersDemandWithTheOperatorsKey()
    {
        var manifests = await RenderAsync(TwoWorkflows);

        var painter = manifests.Single("ScaledObject", "painter");
        Assert.Equal("default", painter.Namespace);
        Assert.Equal("comfyoperator.io/v1alpha1", painter.Get("spec.scaleTargetRef.apiVersion"));
        Assert.Equal("WorkflowDeployment", painter.Get("spec.scaleTargetRef.kind"));
        Assert.Equal("painter", painter.Get("spec.scaleTargetRef.name"));
        Assert.Equal("0", painter.Get("spec.minReplicaCount"));
        Assert.Equal("3", painter.Get("spec.maxReplicaCount"));
        Assert.Equal("10", painter.Get("spec.pollingInterval"));
        Assert.Equal("120", painter.Get("spec.cooldownPeriod"));
        var trigger = Tree.Get(painter.Root, "spec.triggers.0");
        Assert.Equal("metrics-api", Tree.Get(trigger, "type"));
        Assert.Equal("AverageValue", Tree.Get(trigger, "metricType"));
        Assert.Equal("http://comfy-comfy-router.default.svc:8080/v1/workflows/painter", Tree.Get(trigger, "metadata.url"));
        Assert.Equal("demand.pending", Tree.Get(trigger, "metadata.valueLocation"));
        Assert.Equal("2", Tree.Get(trigger, "metadata.targetValue"));
        Assert.Equal("bearer", Tree.Get(trigger, "metadata.authMode"));

        var upscaler = manifests.Single("ScaledObject", "upscaler");
        Assert.Equal("team-a", upscaler.Namespace);
        Assert.Null(upscaler.Get("spec.pollingInterval"));
        Assert.Null(upscaler.Get("spec.cooldownPeriod"));

        // Each ScaledObject's TriggerAuthentication is in its namespace and reads the key the router accepts.
        var operatorKey = manifests.Single("Secret", "comfy-comfy-router-operator-router-key");
        var routerKeyEnv = ChartRenderTests.EnvOf(manifests.Single("Deployment", "comfy-comfy-router"))["COMFY_ROUTER__API_KEYS__100"];
        foreach (var so in new[] { painter, upscaler })
        {
            var auth = manifests.OfKind("TriggerAuthentication").Single(a => a.Name == (string)so.Get("spec.triggers.0.authenticationRef.name")! && a.Namespace == so.Namespace);
            Assert.Equal("token", auth.Get("spec.secretTargetRef.0.parameter"));
            Assert.Equal(operatorKey.Name, auth.Get("spec.secretTargetRef.0.name"));
            Assert.Equal(Tree.Get(routerKeyEnv, "valueFrom.secretKeyRef.name"), auth.Get("spec.secretTargetRef.0.name"));
            Assert.Equal(Tree.Get(routerKeyEnv, "valueFrom.secretKeyRef.key"), auth.Get("spec.secretTargetRef.0.key"));
        }

        Assert.NotEmpty(Encoding.UTF8.GetString(Convert.FromBase64String((string)operatorKey.Get("data.api-key")!)));
    }

    [Fact]
    public async Task Render_KedaWithPrometheus_TriggerOnPendingPlusRunningAndNoRouterKey()
    {
        var manifests = await RenderAsync(TwoWorkflows, "keda: {prometheusServerAddress: http://prometheus.monitoring.svc:9090}");

        var trigger = Tree.Get(manifests.Single("ScaledObject", "painter").Root, "spec.triggers.0");
        Assert.Equal("prometheus", Tree.Get(trigger, "type"));
        Assert.Equal("http://prometheus.monitoring.svc:9090", Tree.Get(trigger, "metadata.serverAddress"));
        Assert.Equal("sum(comfy_router_workflow_runs{workflow=\"painter\"})", Tree.Get(trigger, "metadata.query"));
        Assert.Equal("2", Tree.Get(trigger, "metadata.threshold"));
        Assert.Null(Tree.Get(trigger, "authenticationRef"));
        Assert.Empty(manifests.OfKind("TriggerAuthentication"));
    }

    [Theory]
    [InlineData("keda: {enabled: true, scaledObjects: [{name: painter, minReplicaCount: 4, maxReplicaCount: 3, targetPendingPerReplica: 1}]}", "minReplicaCount 4 is above maxReplicaCount 3")]
    [InlineData("keda: {enabled: true, scaledObjects: [{name: painter, maxReplicaCount: 3, targetPendingPerReplica: 1}]}", "minReplicaCount")]
    [InlineData("keda: {enabled: true, scaledObjects: [{name: painter, minReplicaCount: 0, maxReplicaCount: 3, targetPendingPerReplica: 0}]}", "targetPendingPerReplica")]
    [InlineData("keda: {enabled: true, scaledObjects: [{name: painter, minReplicaCount: 0, maxReplicaCount: 3, targetPendingPerReplica: 1}]}\noperator: {router: {enabled: false}}", "needs the operator's router key")]
    public async Task Render_KedaValuesKedaCannotUse_FailsNamingTheValue(string values, string expected)
    {
        var result = await Helm.TemplateWithValuesAsync(values);

        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
    }

    private static async Task<ManifestSet> RenderAsync(params string[] valuesYaml)
    {
        var result = await Helm.TemplateWithValuesAsync([.. valuesYaml.Where(v => v.Length > 0)]);
        Assert.True(result.Succeeded, result.ToString());
        return ManifestSet.Parse(result.StdOut);
    }
}
