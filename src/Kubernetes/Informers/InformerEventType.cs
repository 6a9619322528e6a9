namespace ComfyOperator.Kubernetes.Informers;

public enum InformerEventType
{
    Added,
    Updated,
    Deleted,
}
