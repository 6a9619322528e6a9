using ComfyOperator.Entities;
using ComfyOperator.Router.Nodes;
using k8s.Models;

namespace ComfyOperator.Router.Tests.Nodes;

public sealed class KubernetesNodeSourceTests
{
    private static ComfyNode Node(string phase = ComfyNodePhase.Idle, string ready = "True", string? endpoint = "http://10.0.0.7:8188")
    {
        var node = new ComfyNode
        {
            Metadata = new V1ObjectMeta { Name = "gpu-a", NamespaceProperty = "ml", Labels = new Dictionary<string, string> { ["pool"] = "a100", ["gpu"] = "meta" } },
            Spec = new ComfyNodeSpec { MaxQueue = 3, Labels = new Dictionary<string, string> { ["gpu"] = "h100" } },
            Status = new ComfyNodeStatus
            {
                Phase = phase,
                Endpoint = endpoint,
                Conditions = [new V1Condition { Type = ConditionTypes.Ready, Status = ready }],
            },
        };
        return node;
    }

    [Fact]
    public void ToEndpoint_ReadyWithEndpoint_IsWorkerWithMergedLabels()
    {
        var endpoint = KubernetesNodeSource.ToEndpoint(Node());

        Assert.NotNull(endpoint);
        Assert.Equal(new Uri("http://10.0.0.7:8188/"), endpoint.BaseAddress);
        Assert.Equal("kubernetes", endpoint.Source);
        Assert.Equal("a100", endpoint.Labels["pool"]);
        Assert.Equal("h100", endpoint.Labels["gpu"]);
        Assert.Equal(3, endpoint.MaxQueue);
        Assert.Equal("ml/gpu-a", endpoint.ResourceName);
    }

    [Theory]
    [InlineData(ComfyNodePhase.Offline, "True", "http://10.0.0.7:8188")]
    [InlineData(ComfyNodePhase.Failed, "True", "http://10.0.0.7:8188")]
    [InlineData(ComfyNodePhase.Starting, "False", "http://10.0.0.7:8188")]
    [InlineData(ComfyNodePhase.Idle, "True", null)]
    public void ToEndpoint_NotReadyOfflineOrNoEndpoint_IsNoWorker(string phase, string ready, string? endpoint)
    {
        Assert.Null(KubernetesNodeSource.ToEndpoint(Node(phase, ready, endpoint)));
    }

    /// <summary>
    /// A deleted node stays a worker while its finalizer holds it (so a prompt running on it is followed
    /// to the end), cordoned: it takes nothing new. Before the drain finalizer it left at once.
    /// </summary>
    [Fact]
    public void ToEndpoint_Deleting_IsCordonedWorker()
    {
        var node = Node();
        node.Metadata.DeletionTimestamp = DateTime.UnixEpoch;

        var endpoint = KubernetesNodeSource.ToEndpoint(node);

        Assert.NotNull(endpoint);
        Assert.True(endpoint.Cordoned);
    }

    [Fact]
    public void ToEndpoint_Unschedulable_IsCordonedWorker()
    {
        var node = Node();
        Assert.False(KubernetesNodeSource.ToEndpoint(node)!.Cordoned);
        node.Spec.Unschedulable = true;

        Assert.True(KubernetesNodeSource.ToEndpoint(node)!.Cordoned);
    }

    /// <summary>The operator drains a node whose pod spec changed before replacing the pod: its worker takes nothing new meanwhile.</summary>
    [Fact]
    public void ToEndpoint_DrainingForPodReplacement_IsCordonedWorker()
    {
        var node = Node();
        node.Status.Conditions!.Add(new V1Condition { Type = ConditionTypes.Draining, Status = "False" });
        Assert.False(KubernetesNodeSource.ToEndpoint(node)!.Cordoned);
        node.Status.Conditions[1].Status = "True";

        Assert.True(KubernetesNodeSource.ToEndpoint(node)!.Cordoned);
    }
}
