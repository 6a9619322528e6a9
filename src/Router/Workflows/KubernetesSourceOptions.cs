namespace ComfyOperator.Router.Workflows;

/// <summary><c>Router:Kubernetes</c>: the cluster as node and workflow source.</summary>
internal sealed class KubernetesSourceOptions
{
    public bool Enabled { get; set; }

    /// <summary>Namespaces to watch; empty = all.</summary>
    public List<string> Namespaces { get; } = [];

    /// <summary>kubeconfig path; empty = in-cluster config, else the default kubeconfig.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>How often the ConfigMaps named by workflowRefs are read again (ConfigMaps are not watched: that would mean every ConfigMap in the namespaces).</summary>
    public TimeSpan ConfigMapRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
