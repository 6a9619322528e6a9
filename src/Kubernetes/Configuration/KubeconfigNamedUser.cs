using YamlDotNet.Serialization;

namespace ComfyOperator.Kubernetes.Configuration;

internal sealed class KubeconfigNamedUser
{
    [YamlMember(Alias = "name")]
    public string? Name { get; set; }

    [YamlMember(Alias = "user")]
    public KubeconfigUser? User { get; set; }
}
