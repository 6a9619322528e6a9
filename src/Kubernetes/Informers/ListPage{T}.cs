namespace ComfyOperator.Kubernetes.Informers;

/// <summary>One page of a LIST: its items, the list's resourceVersion, and the token of the next page (null on the last).</summary>
public sealed record ListPage<T>(IReadOnlyList<T> Items, string? ResourceVersion, string? Continue);
