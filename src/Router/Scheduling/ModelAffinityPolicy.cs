using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Prefers the worker whose last run loaded the same checkpoint/unet (it is still in VRAM): each
/// worker costs its queued runs, plus <see cref="PlacementContext.LoadCost"/> when the run would
/// make it load another model. So a busy affine worker is weighed against loading elsewhere;
/// ties go to the affine worker, then round-robin.
/// </summary>
internal sealed class ModelAffinityPolicy : IPlacementPolicy
{
    private readonly LeastQueuedPolicy _fallback = new();
    private int _next = -1;

    public string Name => PlacementPolicyNames.ModelAffinity;

    public WorkerState Choose(IReadOnlyList<WorkerState> eligible) => _fallback.Choose(eligible);

    public WorkerState Choose(PlacementContext context, IReadOnlyList<WorkerState> eligible)
    {
        var model = context.Requirements.AffinityModel;
        if (model is null)
        {
            return _fallback.Choose(eligible);
        }

        var best = double.MaxValue;
        var bestAffine = false;
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)eligible.Count);
        WorkerState? chosen = null;
        for (var i = 0; i < eligible.Count; i++)
        {
            var worker = eligible[(start + i) % eligible.Count];
            var affine = string.Equals(context.LastModel(worker), model, StringComparison.Ordinal);
            var cost = worker.Assigned + (affine ? 0 : context.LoadCost);
            if (cost < best - 1e-9 || (Math.Abs(cost - best) <= 1e-9 && affine && !bestAffine))
            {
                (best, bestAffine, chosen) = (cost, affine, worker);
            }
        }

        return chosen!;
    }
}
