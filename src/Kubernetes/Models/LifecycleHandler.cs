using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class LifecycleHandler
{
    public ExecAction? Exec { get; set; }

    public HttpGetAction? HttpGet { get; set; }

    public TcpSocketAction? TcpSocket { get; set; }

    public SleepAction? Sleep { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
