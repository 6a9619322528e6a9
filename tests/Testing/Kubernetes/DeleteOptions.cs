namespace ComfyOperator.Testing.Kubernetes;

/// <summary>DeleteOptions from the body or the query string.</summary>
internal sealed record DeleteOptions(string? PropagationPolicy, string? PreconditionUid, string? PreconditionResourceVersion, bool DryRun);
