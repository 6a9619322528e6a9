namespace ComfyOperator.Kubernetes.Watch;

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}
