using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Api;

/// <summary>One worker as <c>GET /v1/nodes</c> shows it.</summary>
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
    DateTimeOffset? LastProbeAt);
