using System.Text.Json;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Serialization;

namespace ComfyOperator.Kubernetes.Tests.Models;

public sealed class ModelSerializationTests
{
    [Fact]
    public void NewPod_Constructed_CarriesApiVersionAndKind()
    {
        var pod = new Pod();

        Assert.Equal("v1", pod.ApiVersion);
        Assert.Equal("Pod", pod.Kind);
    }

    [Fact]
    public void Serialize_Pod_UsesCamelCaseAndOmitsNulls()
    {
        var pod = new Pod
        {
            Metadata = new ObjectMeta { Name = "p", NamespaceProperty = "ns", Labels = new Dictionary<string, string> { ["App.Kubernetes.io/Name"] = "x" } },
            Spec = new PodSpec
            {
                Containers = [new Container { Name = "c", Image = "i", Ports = [new ContainerPort { ContainerPortProperty = 8188 }] }],
                TerminationGracePeriodSeconds = 30,
            },
        };

        var json = KubernetesJson.Serialize(pod);

        Assert.StartsWith("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":", json);
        Assert.Contains("\"namespace\":\"ns\"", json);
        Assert.Contains("\"App.Kubernetes.io/Name\":\"x\"", json);
        Assert.Contains("\"containerPort\":8188", json);
        Assert.Contains("\"terminationGracePeriodSeconds\":30", json);
        Assert.DoesNotContain("null", json);
        Assert.DoesNotContain("status", json);
    }

    [Fact]
    public void Deserialize_PodStatus_ReadsPodIPAndContainerStatuses()
    {
        const string json = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"2025-01-02T03:04:05Z"},
             "spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":1,"memory":"16Gi"}}}]},
             "status":{"phase":"Running","podIP":"10.0.0.7","containerStatuses":[{"name":"c","ready":true,"restartCount":2,
               "state":{"running":{"startedAt":"2025-01-02T03:04:06Z"}}}]}}
            """;

        var pod = KubernetesJson.Deserialize<Pod>(json)!;

        Assert.Equal("Running", pod.Status!.Phase);
        Assert.Equal("10.0.0.7", pod.Status.PodIP);
        Assert.True(pod.Status.ContainerStatuses![0].Ready);
        Assert.Equal(2, pod.Status.ContainerStatuses[0].RestartCount);
        Assert.Equal("1", pod.Spec.Containers[0].Resources!.Limits!["nvidia.com/gpu"].Value);
        Assert.Equal("16Gi", pod.Spec.Containers[0].Resources!.Limits!["memory"].Value);
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), pod.Metadata.CreationTimestamp);
    }

    [Fact]
    public void RoundTrip_UnknownFields_ArePreserved()
    {
        const string json = """
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"s","managedFields":[{"manager":"m"}],"futureMeta":1},
             "spec":{"ports":[{"port":80,"targetPort":"http"}],"ipFamilies":["IPv4"]},"newTopLevel":{"a":true}}
            """;

        var service = KubernetesJson.Deserialize<Service>(json)!;
        var back = JsonDocument.Parse(KubernetesJson.Serialize(service)).RootElement;

        Assert.Equal("IPv4", back.GetProperty("spec").GetProperty("ipFamilies")[0].GetString());
        Assert.True(back.GetProperty("newTopLevel").GetProperty("a").GetBoolean());
        Assert.Equal(1, back.GetProperty("metadata").GetProperty("futureMeta").GetInt32());
        Assert.Equal("m", back.GetProperty("metadata").GetProperty("managedFields")[0].GetProperty("manager").GetString());
        Assert.Equal("http", back.GetProperty("spec").GetProperty("ports")[0].GetProperty("targetPort").GetString());
    }

    [Fact]
    public void Serialize_Time_IsUtcWholeSeconds()
    {
        var meta = new ObjectMeta { CreationTimestamp = new DateTimeOffset(2025, 1, 2, 5, 4, 5, 999, TimeSpan.FromHours(2)) };

        var json = KubernetesJson.Serialize(meta);

        Assert.Equal("{\"creationTimestamp\":\"2025-01-02T03:04:05Z\"}", json);
    }

    [Fact]
    public void Serialize_SecretData_IsBase64()
    {
        var secret = new Secret { Data = new Dictionary<string, byte[]> { ["token"] = "abc"u8.ToArray() } };

        var json = KubernetesJson.Serialize(secret);

        Assert.Contains("\"token\":\"YWJj\"", json);
    }

    [Fact]
    public void ResourceType_BuiltInsAndGroups_BuildApiPaths()
    {
        Assert.Equal("/api/v1/namespaces/ns/pods/p/status", ResourceType.Of<Pod>().Path("ns", "p", "status"));
        Assert.Equal("/api/v1/pods", ResourceType.Of<Pod>().Path());
        Assert.Equal("/api/v1/namespaces/ns", ResourceType.Of<Namespace>().Path(null, "ns"));
        Assert.Equal("/apis/batch/v1/namespaces/a/jobs", ResourceType.Of<Job>().Path("a"));
        Assert.False(ResourceType.Of<Namespace>().Namespaced);
        Assert.Equal("jobs.batch", ResourceType.Of<Job>().QualifiedResource);
    }

    [Fact]
    public void Status_Deserialize_ReadsCauses()
    {
        const string json = """
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"m","reason":"Invalid",
             "details":{"name":"c1","kind":"CronTab","causes":[{"reason":"FieldValueInvalid","message":"bad","field":"spec.replicas"}]},"code":422}
            """;

        var status = KubernetesJson.Deserialize<Status>(json)!;

        Assert.Equal("Failure", status.Outcome);
        Assert.Equal(422, status.Code);
        Assert.Equal("spec.replicas", status.Details!.Causes![0].Field);
    }
}
