using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Autoscaling;

/// <summary>
/// The autoscaling rule, a pure function of the spec, the replicas now, the replicas ready, the
/// demand (runs pending plus running) and what was remembered:
/// <list type="bullet">
/// <item>wanted = ceil(demand / targetPendingPerReplica), kept within minReplicas..maxReplicas;</item>
/// <item>more than now: at once from zero or without <c>scaleUpStabilizationSeconds</c>, else once
/// the demand has called for more for that long;</item>
/// <item>fewer than now: once the replicas have been surplus for <c>scaleDownDelaySeconds</c>
/// without a break (any look that wants as many or more starts the window again);</item>
/// <item>outside min..max (the spec was edited): into the range at once.</item>
/// </list>
/// </summary>
internal static class ScaleDecider
{
    public static ScaleDecision Decide(AutoscalingSpec spec, int current, int ready, int demand, ScaleState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(state);
        var min = Math.Max(0, spec.MinReplicas);
        var max = Math.Max(min, spec.MaxReplicas);
        var target = Math.Max(1, spec.TargetPendingPerReplica);
        var wanted = Math.Clamp((int)Math.Min(int.MaxValue, ((long)Math.Max(0, demand) + target - 1) / target), min, max);

        if (current < min || current > max)
        {
            var bounded = Math.Clamp(current, min, max);
            return Change(bounded, current, demand, $"replicas {current} outside {min}..{max}");
        }

        if (wanted > current)
        {
            var upSince = state.UpSince ?? now;
            var window = TimeSpan.FromSeconds(spec.ScaleUpStabilizationSeconds);
            if (current == 0 || now - upSince >= window)
            {
                return Change(wanted, current, demand, null);
            }

            return new ScaleDecision(current, ConditionReasons.Stable, $"demand {demand} calls for {wanted} replicas; adding them once it has for {window.TotalSeconds:0}s", false, new ScaleState(upSince, null));
        }

        if (wanted < current)
        {
            var surplusSince = state.SurplusSince ?? now;
            var delay = TimeSpan.FromSeconds(spec.ScaleDownDelaySeconds);
            if (now - surplusSince >= delay)
            {
                return Change(wanted, current, demand, null);
            }

            var left = delay - (now - surplusSince);
            return new ScaleDecision(current, Steady(current, ready), $"demand {demand} needs {wanted} of {current} replicas; the surplus goes in {Math.Ceiling(left.TotalSeconds):0}s if it lasts", false, new ScaleState(null, surplusSince));
        }

        return new ScaleDecision(current, Steady(current, ready), $"demand {demand}: {current} replicas ({ready} ready) within {min}..{max}", false, ScaleState.Empty);
    }

    /// <summary>The reason when nothing changes: at zero, still waiting for replicas to be ready, or stable.</summary>
    private static string Steady(int current, int ready) =>
        current == 0 ? ConditionReasons.ScaledToZero : ready < current ? ConditionReasons.ScalingUp : ConditionReasons.Stable;

    private static ScaleDecision Change(int replicas, int current, int demand, string? why)
    {
        var reason = replicas > current ? ConditionReasons.ScalingUp : replicas == 0 ? ConditionReasons.ScaledToZero : ConditionReasons.ScalingDown;
        return new ScaleDecision(replicas, reason, $"{why ?? $"demand {demand}"}: scaling from {current} to {replicas} replicas", true, ScaleState.Empty);
    }
}
