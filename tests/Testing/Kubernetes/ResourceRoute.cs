namespace ComfyOperator.Testing.Kubernetes;

/// <summary>A parsed resource URL: type, namespace (null = cluster scope or all namespaces), name, subresource.</summary>
internal sealed record ResourceRoute(ResourceType Type, string? Namespace, string? Name, string? Subresource);
