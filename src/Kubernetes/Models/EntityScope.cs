namespace ComfyOperator.Kubernetes.Models;

public enum EntityScope
{
    Namespaced,
    Cluster,
}
