using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class HttpGetAction
{
    public string? Path { get; set; }

    public IntOrString Port { get; set; }

    public string? Host { get; set; }

    public string? Scheme { get; set; }

    public IList<HttpHeader>? HttpHeaders { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
