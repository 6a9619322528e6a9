namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Where the <c>/scale</c> subresource reads and writes replicas and the selector.</summary>
internal sealed record ScaleSubresource(string SpecReplicasPath, string StatusReplicasPath, string? LabelSelectorPath);
