namespace ComfyOperator.Kubernetes.Informers;

/// <summary>A change the informer applied to its cache. <paramref name="OldItem"/> is set for updates and deletes.</summary>
public sealed record InformerEvent<T>(InformerEventType Type, T Item, T? OldItem)
    where T : class;
