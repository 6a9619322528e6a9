namespace ComfyOperator.Router.Runs;

/// <summary>
/// A submission that passed every check, as <see cref="RunService.CreateAsync"/> stores it: the graph
/// (parsed, and as JSON text for the store), metadata, prepared inputs, webhook, owner and limits.
/// </summary>
internal sealed record NewRun(RunGraph Graph, string Workflow, int Priority, string? IdempotencyKey, string? Metadata)
{
    /// <summary>Inputs found at submit; those with a file name are already pinned.</summary>
    public IReadOnlyList<Inputs.RunInput> Inputs { get; init; } = [];

    /// <summary>ComfyUI's <c>extra_data</c> (e.g. <c>extra_pnginfo</c>) as a JSON object, posted to the worker with the prompt.</summary>
    public string? ExtraData { get; init; }

    public RunWebhook? Webhook { get; init; }

    /// <summary>The id the front door chose for the run; null = a new time-ordered one.</summary>
    public string? Id { get; init; }

    /// <summary>API key id or user; per-owner MaxPendingPerKey and fair share apply.</summary>
    public string? Owner { get; init; }

    /// <summary>The workflow submitted to (POST /v1/workflows/{name}/runs).</summary>
    public string? Deployment { get; init; }

    /// <summary>Runs of <see cref="Deployment"/> that may wait before 429; null = no own limit.</summary>
    public int? DeploymentMaxPending { get; init; }

    /// <summary>Runs one owner may have waiting before 429; 0 = no per-owner limit.</summary>
    public int OwnerMaxPending { get; init; }
}
