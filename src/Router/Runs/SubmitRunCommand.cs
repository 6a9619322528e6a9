using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Scheduling;

namespace ComfyOperator.Router.Runs;

/// <summary>A validated submission: the graph and metadata as JSON text, its URL/cache inputs, webhook and owner.</summary>
internal sealed record SubmitRunCommand(string Workflow, int Priority, string? IdempotencyKey, string? Metadata)
{
    /// <summary>Inputs found by <see cref="IRunInputResolver.PrepareAsync"/>; those with a file name are already pinned.</summary>
    public IReadOnlyList<RunInput> Inputs { get; init; } = [];

    public RunWebhook? Webhook { get; init; }

    /// <summary>API key id or user; per-owner MaxPendingPerKey and fair share apply.</summary>
    public string? Owner { get; init; }

    /// <summary>The workflow submitted to (POST /v1/workflows/{name}/runs).</summary>
    public string? Deployment { get; init; }

    /// <summary>Runs of <see cref="Deployment"/> that may wait before 429; null = no own limit.</summary>
    public int? DeploymentMaxPending { get; init; }

    /// <summary>Runs one owner may have waiting before 429; 0 = no per-owner limit.</summary>
    public int OwnerMaxPending { get; init; }

    /// <summary>The models the graph needs, found while validating it (saves parsing it again at enqueue); null = unknown.</summary>
    public IReadOnlyList<ModelRequirement>? Models { get; init; }
}
