using ComfyOperator.Router.Inputs;

namespace ComfyOperator.Router.Runs;

/// <summary>A validated submission: the graph and metadata as JSON text, its URL/cache inputs and webhook.</summary>
internal sealed record SubmitRunCommand(string Workflow, int Priority, string? IdempotencyKey, string? Metadata)
{
    /// <summary>Inputs found by <see cref="IRunInputResolver.PrepareAsync"/>; those with a file name are already pinned.</summary>
    public IReadOnlyList<RunInput> Inputs { get; init; } = [];

    public RunWebhook? Webhook { get; init; }
}
