using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class CustomResourceSubresources
{
    public JsonElement? Status { get; set; }

    public CustomResourceSubresourceScale? Scale { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
