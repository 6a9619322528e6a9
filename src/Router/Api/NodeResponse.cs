using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Api;

/// <summary>
/// One worker as <c>/v1/nodes</c> shows it. <c>Cordoned</c> is the API's cordon or the source's (a
/// ComfyNode's <c>spec.unschedulable</c> or deletion); <c>Drained</c> says it is cordoned and idle,
/// which stays so until it is uncordoned; <c>Resource</c> is the ComfyNode (namespace/name); <c>Finishing</c>
/// counts our runs whose prompt has ended there and whose outputs are still being copied from it (they hold no
/// slot, unlike <c>Assigned</c>, but keep the worker from being drained).
/// </summary>
internal sealed record NodeResponse(
    string Address,
    string Source,
    string Phase,
    string ActiveHealth,
    string PassiveHealth,
    bool Eligible,
    int Assigned,
    int? QueueRemaining,
    string? CurrentRun,
    string? ComfyVersion,
    IReadOnlyList<GpuDevice> Gpus,
    string? LastError,
    DateTimeOffset? LastProbeAt,
    string Id,
    bool Cordoned,
    bool Draining,
    IReadOnlyDictionary<string, string> Labels,
    int? MaxQueue,
    bool ReadOnly,
    string? Checkpoint,
    bool Drained,
    string? Resource,
    int Finishing)
{
    public static NodeResponse From(WorkerState w, DateTimeOffset now, int maxQueue, string? checkpoint) => new(
        w.BaseAddress.ToString(),
        w.Endpoint.Source,
        w.Phase(now),
        w.ActiveHealth.ToString(),
        w.PassiveHealth(now).ToString(),
        w.IsEligible(now, maxQueue),
        w.Assigned,
        w.QueueRemaining,
        w.RunningRunId,
        w.ComfyVersion,
        w.Devices,
        w.LastError,
        w.LastProbeAt,
        NodeIds.Of(w.BaseAddress),
        w.Cordoned || w.CordonedBySource,
        w.Draining,
        w.Endpoint.Labels,
        w.Endpoint.MaxQueue,
        w.Endpoint.Source != NodeSources.Api,
        checkpoint,
        w.Drained,
        w.Endpoint.ResourceName,
        w.Finishing);
}
