using ComfyOperator.Entities;
using ComfyOperator.Operator.Autoscaling;

namespace ComfyOperator.Operator.Tests.Autoscaling;

public sealed class ScaleDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static AutoscalingSpec Spec(int min = 0, int max = 3, int target = 2, int down = 60, int up = 0) =>
        new() { MinReplicas = min, MaxReplicas = max, TargetPendingPerReplica = target, ScaleDownDelaySeconds = down, ScaleUpStabilizationSeconds = up };

    [Fact]
    public void Decide_RunsWaitingAtZero_ScalesUpAtOnceEvenWithStabilization()
    {
        var decision = ScaleDecider.Decide(Spec(up: 120), current: 0, ready: 0, demand: 1, ScaleState.Empty, T0);

        Assert.True(decision.Changed);
        Assert.Equal(1, decision.Replicas);
        Assert.Equal(ConditionReasons.ScalingUp, decision.Reason);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(6, 3)]
    [InlineData(50, 3)]
    public void Decide_Demand_WantsCeilingOfDemandOverTargetWithinMax(int demand, int expected)
    {
        var decision = ScaleDecider.Decide(Spec(down: 0), current: expected == 0 ? 1 : 0, ready: 0, demand, ScaleState.Empty, T0);

        Assert.Equal(expected, decision.Replicas);
    }

    [Fact]
    public void Decide_MoreWantedWithStabilization_WaitsForTheWindowThenScales()
    {
        var first = ScaleDecider.Decide(Spec(up: 30), current: 1, ready: 1, demand: 6, ScaleState.Empty, T0);
        Assert.False(first.Changed);
        Assert.Equal(1, first.Replicas);

        var early = ScaleDecider.Decide(Spec(up: 30), current: 1, ready: 1, demand: 6, first.State, T0.AddSeconds(29));
        Assert.False(early.Changed);

        var late = ScaleDecider.Decide(Spec(up: 30), current: 1, ready: 1, demand: 6, early.State, T0.AddSeconds(30));
        Assert.True(late.Changed);
        Assert.Equal(3, late.Replicas);
    }

    [Fact]
    public void Decide_Surplus_GoesOnlyAfterTheDelayWithoutABreak()
    {
        var first = ScaleDecider.Decide(Spec(down: 60), current: 3, ready: 3, demand: 0, ScaleState.Empty, T0);
        Assert.False(first.Changed);
        Assert.Equal(3, first.Replicas);

        // Demand comes back for one look: the window starts again.
        var busy = ScaleDecider.Decide(Spec(down: 60), current: 3, ready: 3, demand: 6, first.State, T0.AddSeconds(50));
        Assert.False(busy.Changed);
        var again = ScaleDecider.Decide(Spec(down: 60), current: 3, ready: 3, demand: 0, busy.State, T0.AddSeconds(70));
        Assert.False(again.Changed);

        var done = ScaleDecider.Decide(Spec(down: 60), current: 3, ready: 3, demand: 0, again.State, T0.AddSeconds(130));
        Assert.True(done.Changed);
        Assert.Equal(0, done.Replicas);
        Assert.Equal(ConditionReasons.ScaledToZero, done.Reason);
    }

    [Fact]
    public void Decide_PartialSurplus_ScalesDownToWhatTheDemandNeeds()
    {
        var first = ScaleDecider.Decide(Spec(down: 10), current: 3, ready: 3, demand: 2, ScaleState.Empty, T0);
        var done = ScaleDecider.Decide(Spec(down: 10), current: 3, ready: 3, demand: 2, first.State, T0.AddSeconds(10));

        Assert.True(done.Changed);
        Assert.Equal(1, done.Replicas);
        Assert.Equal(ConditionReasons.ScalingDown, done.Reason);
    }

    [Fact]
    public void Decide_ReplicasOutsideMinMax_BroughtIntoRangeAtOnce()
    {
        Assert.Equal(3, ScaleDecider.Decide(Spec(max: 3), current: 5, ready: 5, demand: 50, ScaleState.Empty, T0).Replicas);
        Assert.Equal(2, ScaleDecider.Decide(Spec(min: 2), current: 0, ready: 0, demand: 0, ScaleState.Empty, T0).Replicas);
    }

    [Fact]
    public void Decide_NothingToChange_ReasonSaysWhere()
    {
        Assert.Equal(ConditionReasons.ScaledToZero, ScaleDecider.Decide(Spec(), 0, 0, 0, ScaleState.Empty, T0).Reason);
        Assert.Equal(ConditionReasons.ScalingUp, ScaleDecider.Decide(Spec(), 2, 1, 4, ScaleState.Empty, T0).Reason);
        Assert.Equal(ConditionReasons.Stable, ScaleDecider.Decide(Spec(), 2, 2, 4, ScaleState.Empty, T0).Reason);
    }
}
