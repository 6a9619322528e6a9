namespace ComfyOperator.Testing.Kubernetes;

/// <summary>One page of a list.</summary>
internal sealed record ListResult(IReadOnlyList<StoredObject> Items, long ResourceVersion, string? Continue, long? RemainingItemCount);
