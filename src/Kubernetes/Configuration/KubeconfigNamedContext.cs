using YamlDotNet.Serialization;

namespace ComfyOperator.Kubernetes.Configuration;

internal sealed class KubeconfigNamedContext
{
    [YamlMember(Alias = "name")]
    public string? Name { get; set; }

    [YamlMember(Alias = "context")]
    public KubeconfigContext? Context { get; set; }
}
