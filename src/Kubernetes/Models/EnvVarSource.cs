using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class EnvVarSource
{
    public KeySelector? SecretKeyRef { get; set; }

    public KeySelector? ConfigMapKeyRef { get; set; }

    public ObjectFieldSelector? FieldRef { get; set; }

    public JsonElement? ResourceFieldRef { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
