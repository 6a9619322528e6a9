using YamlDotNet.Serialization;

namespace ComfyOperator.Kubernetes.Configuration;

internal sealed class KubeconfigExec
{
    [YamlMember(Alias = "apiVersion")]
    public string? ApiVersion { get; set; }

    [YamlMember(Alias = "command")]
    public string? Command { get; set; }

    [YamlMember(Alias = "args")]
    public List<string>? Args { get; set; }

    [YamlMember(Alias = "env")]
    public List<KubeconfigExecEnv>? Env { get; set; }
}
