namespace ComfyOperator.Kubernetes.Watch;

/// <summary>One line of a watch stream. ERROR frames never reach callers: they are thrown as KubernetesException.</summary>
/// <remarks>The property is named <c>Object</c> like the official client's, so a later swap stays mechanical.</remarks>
#pragma warning disable CA1720
public sealed record WatchEvent<T>(WatchEventType Type, T Object);
#pragma warning restore CA1720
