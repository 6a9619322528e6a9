using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PodSpec
{
    public IList<Container> Containers { get; set; } = [];

    public IList<Container>? InitContainers { get; set; }

    public IList<Volume>? Volumes { get; set; }

    public IDictionary<string, string>? NodeSelector { get; set; }

    public IList<Toleration>? Tolerations { get; set; }

    public PodSecurityContext? SecurityContext { get; set; }

    public long? TerminationGracePeriodSeconds { get; set; }

    public string? RestartPolicy { get; set; }

    public string? ServiceAccountName { get; set; }

    public string? NodeName { get; set; }

    public string? Hostname { get; set; }

    public string? Subdomain { get; set; }

    public IList<LocalObjectReference>? ImagePullSecrets { get; set; }

    public string? PriorityClassName { get; set; }

    public string? RuntimeClassName { get; set; }

    public Affinity? Affinity { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
