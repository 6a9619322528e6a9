using YamlDotNet.Serialization;

namespace ComfyOperator.Kubernetes.Configuration;

/// <summary>The kubeconfig file format (<c>kind: Config</c>), only the fields we use.</summary>
internal sealed class Kubeconfig
{
    [YamlMember(Alias = "current-context")]
    public string? CurrentContext { get; set; }

    [YamlMember(Alias = "clusters")]
    public List<KubeconfigNamedCluster>? Clusters { get; set; }

    [YamlMember(Alias = "users")]
    public List<KubeconfigNamedUser>? Users { get; set; }

    [YamlMember(Alias = "contexts")]
    public List<KubeconfigNamedContext>? Contexts { get; set; }
}
