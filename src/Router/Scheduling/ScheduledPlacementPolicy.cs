using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// The policy the dispatcher calls, when the <see cref="RunScheduler"/> is on: the worker was
/// already chosen when the <see cref="DispatchQueue"/> handed out the run (labels, models, the
/// run's own policy, affinity), so this returns that reservation. Falls back to the router's policy
/// only when the reserved worker dropped out of the eligible list between the two calls.
/// </summary>
internal sealed class ScheduledPlacementPolicy(DispatchQueue queue, RunScheduler scheduler) : IPlacementPolicy
{
    public string Name => scheduler.DefaultPolicy.Name;

    public WorkerState Choose(IReadOnlyList<WorkerState> eligible)
    {
        var reserved = queue.TakeReservation();
        if (reserved is not null && eligible.Contains(reserved))
        {
            return reserved;
        }

        return scheduler.DefaultPolicy.Choose(eligible);
    }
}
