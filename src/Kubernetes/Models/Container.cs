using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class Container
{
    public string Name { get; set; } = string.Empty;

    public string? Image { get; set; }

    public string? ImagePullPolicy { get; set; }

    public IList<string>? Command { get; set; }

    public IList<string>? Args { get; set; }

    public string? WorkingDir { get; set; }

    public IList<ContainerPort>? Ports { get; set; }

    public IList<EnvVar>? Env { get; set; }

    public IList<EnvFromSource>? EnvFrom { get; set; }

    public ResourceRequirements? Resources { get; set; }

    public IList<VolumeMount>? VolumeMounts { get; set; }

    public Probe? ReadinessProbe { get; set; }

    public Probe? LivenessProbe { get; set; }

    public Probe? StartupProbe { get; set; }

    public Lifecycle? Lifecycle { get; set; }

    public SecurityContext? SecurityContext { get; set; }

    public string? RestartPolicy { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
