using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Resources;

public sealed class ConditionExtensionsTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void SetCondition_New_AddsWithTransitionTime()
    {
        var conditions = new List<V1Condition>();

        var changed = conditions.SetCondition("Ready", ConditionStatus.False, "Starting", "pod pending", 1, T0.AddMilliseconds(700));

        Assert.True(changed);
        var ready = Assert.Single(conditions);
        Assert.Equal(T0.UtcDateTime, ready.LastTransitionTime);
        Assert.Equal(1, ready.ObservedGeneration);
    }

    [Fact]
    public void SetCondition_SameStatusNewReason_KeepsTransitionTime()
    {
        var conditions = new List<V1Condition>();
        conditions.SetCondition("Ready", ConditionStatus.False, "Starting", "a", 1, T0);

        var changed = conditions.SetCondition("Ready", ConditionStatus.False, "Pulling", "b", 2, T0.AddMinutes(1));

        Assert.True(changed);
        Assert.Equal(T0.UtcDateTime, conditions[0].LastTransitionTime);
        Assert.Equal("Pulling", conditions[0].Reason);
        Assert.Equal(2, conditions[0].ObservedGeneration);
    }

    [Fact]
    public void SetCondition_StatusFlips_StampsTransitionTime()
    {
        var conditions = new List<V1Condition>();
        conditions.SetCondition("Ready", ConditionStatus.False, "Starting", "a", 1, T0);

        conditions.SetCondition("Ready", ConditionStatus.True, "Running", "ok", 1, T0.AddMinutes(5));

        Assert.Equal(T0.AddMinutes(5).UtcDateTime, conditions[0].LastTransitionTime);
        Assert.True(conditions.IsConditionTrue("Ready"));
    }

    [Fact]
    public void SetCondition_Identical_ReportsNoChange()
    {
        var conditions = new List<V1Condition>();
        conditions.SetCondition("Ready", ConditionStatus.True, "Running", "ok", 3, T0);

        Assert.False(conditions.SetCondition("Ready", ConditionStatus.True, "Running", "ok", 3, T0.AddHours(1)));
        Assert.Equal(T0.UtcDateTime, conditions[0].LastTransitionTime);
    }

    [Fact]
    public void RemoveCondition_Present_RemovesOnlyThatType()
    {
        var conditions = new List<V1Condition>();
        conditions.SetCondition("Ready", ConditionStatus.True, "R", "", null, T0);
        conditions.SetCondition("Healthy", ConditionStatus.True, "H", "", null, T0);

        Assert.True(conditions.RemoveCondition("Ready"));
        Assert.False(conditions.RemoveCondition("Ready"));
        Assert.Equal("Healthy", Assert.Single(conditions).Type);
    }

    [Fact]
    public void SetControllerReference_SecondController_Throws()
    {
        var owner = new V1Pod { Metadata = new V1ObjectMeta { Name = "a", NamespaceProperty = "ns", Uid = "u1" } };
        var other = new V1Pod { Metadata = new V1ObjectMeta { Name = "b", NamespaceProperty = "ns", Uid = "u2" } };
        var meta = new V1ObjectMeta { Name = "x", NamespaceProperty = "ns" };

        meta.SetControllerReference(owner);
        meta.SetControllerReference(owner);

        var reference = Assert.Single(meta.OwnerReferences!);
        Assert.Equal("Pod", reference.Kind);
        Assert.True(reference.BlockOwnerDeletion);
        Assert.Throws<InvalidOperationException>(() => meta.SetControllerReference(other));
    }
}
