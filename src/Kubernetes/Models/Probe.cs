using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class Probe
{
    public HttpGetAction? HttpGet { get; set; }

    public TcpSocketAction? TcpSocket { get; set; }

    public ExecAction? Exec { get; set; }

    public int? InitialDelaySeconds { get; set; }

    public int? PeriodSeconds { get; set; }

    public int? TimeoutSeconds { get; set; }

    public int? SuccessThreshold { get; set; }

    public int? FailureThreshold { get; set; }

    public long? TerminationGracePeriodSeconds { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
