namespace ComfyOperator.Router.Runs;

/// <summary>A validated submission: the graph and metadata as JSON text.</summary>
internal sealed record SubmitRunCommand(string Workflow, int Priority, string? IdempotencyKey, string? Metadata);
