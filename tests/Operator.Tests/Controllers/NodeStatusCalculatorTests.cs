using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Controllers;
using ComfyOperator.Operator.Health;
using k8s.Models;

namespace ComfyOperator.Operator.Tests.Controllers;

public sealed class NodeStatusCalculatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ProbeResult Healthy = new(true, "0.3.64", [new DeviceStatus { Name = "cuda:0 NVIDIA H100 80GB HBM3 : cudaMallocAsync", Type = "cuda", Index = 0, VramTotal = 80, VramFree = 70 }], 0, null);

    private static ComfyNode Node(ComfyNodeStatus? status = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "n", NamespaceProperty = "ns", Generation = 3 },
        Status = status ?? new ComfyNodeStatus(),
    };

    private static NodeObservation Running(ProbeResult probe) => new() { Endpoint = "http://10.0.0.1:8188", PodName = "n-abc", Pod = PodState.Running, Probe = probe, FailureThreshold = 3 };

    [Fact]
    public void Compute_HealthyProbe_IdleReadyWithDeviceAndVersion()
    {
        var (status, events) = NodeStatusCalculator.Compute(Node(), Running(Healthy), Now);

        Assert.Equal(ComfyNodePhase.Idle, status.Phase);
        Assert.Equal("NVIDIA H100 80GB HBM3", status.Gpu);
        Assert.Equal("0.3.64", status.ComfyVersion);
        Assert.Equal(3, status.ObservedGeneration);
        Assert.True(status.Conditions.IsConditionTrue(ConditionTypes.Ready));
        Assert.True(status.Conditions.IsConditionTrue(ConditionTypes.Healthy));
        Assert.All(status.Conditions!, c => Assert.Equal(3, c.ObservedGeneration));
        Assert.Empty(events);
    }

    [Fact]
    public void Compute_DrainingOutdatedPod_DrainingConditionSinceTheStart_StillReady_GoneAfterwards()
    {
        var (draining, _) = NodeStatusCalculator.Compute(Node(), Running(Healthy) with { Draining = true }, Now);
        var (later, _) = NodeStatusCalculator.Compute(Node(draining), Running(Healthy with { QueueRemaining = 1 }) with { Draining = true }, Now.AddSeconds(30));
        var (replaced, _) = NodeStatusCalculator.Compute(Node(later), Running(Healthy), Now.AddSeconds(40));

        Assert.True(draining.Conditions.IsConditionTrue(ConditionTypes.Draining));
        Assert.True(draining.Conditions.IsConditionTrue(ConditionTypes.Ready));
        Assert.Equal(Now.UtcDateTime, later.Conditions.FindCondition(ConditionTypes.Draining)!.LastTransitionTime);
        Assert.Null(replaced.Conditions.FindCondition(ConditionTypes.Draining));
    }

    [Fact]
    public void Compute_QueuedPrompts_Busy()
    {
        var (status, _) = NodeStatusCalculator.Compute(Node(), Running(Healthy with { QueueRemaining = 2 }), Now);

        Assert.Equal(ComfyNodePhase.Busy, status.Phase);
        Assert.Equal(2, status.QueueRemaining);
    }

    [Fact]
    public void Compute_SameProbeAgain_NothingToWrite()
    {
        var (first, _) = NodeStatusCalculator.Compute(Node(), Running(Healthy), Now);
        var probeWithOtherFreeVram = Healthy with { Devices = [new DeviceStatus { Name = Healthy.Devices[0].Name, Type = "cuda", Index = 0, VramTotal = 80, VramFree = 12 }] };

        var (second, _) = NodeStatusCalculator.Compute(Node(first), Running(probeWithOtherFreeVram), Now.AddMinutes(5));

        Assert.False(NodeStatusCalculator.Differs(first, second));
    }

    [Fact]
    public void Compute_FailuresBelowThreshold_KeepIdle_ThenOfflineWithOneEvent()
    {
        var status = NodeStatusCalculator.Compute(Node(), Running(Healthy), Now).Status;
        var failed = ProbeResult.Failed("connection refused");
        var events = new List<NodeEvent>();
        for (var i = 0; i < 5; i++)
        {
            var (next, e) = NodeStatusCalculator.Compute(Node(status), Running(failed), Now);
            events.AddRange(e);
            if (i < 2)
            {
                Assert.Equal(ComfyNodePhase.Idle, next.Phase);
            }

            status = next;
        }

        Assert.Equal(ComfyNodePhase.Offline, status.Phase);
        Assert.Equal(3, status.ConsecutiveFailures);
        Assert.False(status.Conditions.IsConditionTrue(ConditionTypes.Ready));
        var offline = Assert.Single(events);
        Assert.Equal(EventReasons.NodeOffline, offline.Reason);

        var (recovered, recoveryEvents) = NodeStatusCalculator.Compute(Node(status), Running(Healthy), Now);
        Assert.Equal(ComfyNodePhase.Idle, recovered.Phase);
        Assert.Equal(EventReasons.NodeRecovered, Assert.Single(recoveryEvents).Reason);
    }

    [Fact]
    public void Compute_OfflineAndStillDown_NothingToWrite()
    {
        var status = new ComfyNodeStatus();
        for (var i = 0; i < 4; i++)
        {
            status = NodeStatusCalculator.Compute(Node(status), Running(ProbeResult.Failed("down")), Now).Status;
        }

        var again = NodeStatusCalculator.Compute(Node(status), Running(ProbeResult.Failed("down")), Now).Status;

        Assert.False(NodeStatusCalculator.Differs(status, again));
    }

    [Fact]
    public void Compute_NeverAnswered_Starting()
    {
        var (status, _) = NodeStatusCalculator.Compute(Node(), Running(ProbeResult.Failed("refused")), Now);

        Assert.Equal(ComfyNodePhase.Starting, status.Phase);
    }

    [Fact]
    public void Compute_ModelSyncFailed_FailedPhaseAndEventOnce()
    {
        var observed = new NodeObservation { PodName = "p", Pod = PodState.Failed, Models = ModelsState.Failed, ModelsMessage = "model sync failed (exit 1)" };

        var (status, events) = NodeStatusCalculator.Compute(Node(), observed, Now);
        var (_, again) = NodeStatusCalculator.Compute(Node(status), observed, Now);

        Assert.Equal(ComfyNodePhase.Failed, status.Phase);
        Assert.Equal(ConditionStatus.False, status.Conditions.FindCondition(ConditionTypes.ModelsReady)!.Status);
        Assert.Equal(EventReasons.ModelsSyncFailed, Assert.Single(events).Reason);
        Assert.Empty(again);
    }

    [Fact]
    public void Compute_NoPodYet_Pending()
    {
        var (status, _) = NodeStatusCalculator.Compute(Node(), new NodeObservation { Pod = PodState.Pending, PodMessage = "waiting for the pod to run" }, Now);

        Assert.Equal(ComfyNodePhase.Pending, status.Phase);
        Assert.Equal(ConditionStatus.Unknown, status.Conditions.FindCondition(ConditionTypes.Healthy)!.Status);
    }
}
