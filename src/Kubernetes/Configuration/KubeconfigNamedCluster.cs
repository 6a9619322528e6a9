using YamlDotNet.Serialization;

namespace ComfyOperator.Kubernetes.Configuration;

internal sealed class KubeconfigNamedCluster
{
    [YamlMember(Alias = "name")]
    public string? Name { get; set; }

    [YamlMember(Alias = "cluster")]
    public KubeconfigCluster? Cluster { get; set; }
}
