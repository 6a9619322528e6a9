using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class CustomResourceDefinitionVersion
{
    public string Name { get; set; } = string.Empty;

    public bool Served { get; set; }

    public bool Storage { get; set; }

    public bool? Deprecated { get; set; }

    public CustomResourceValidation? Schema { get; set; }

    public CustomResourceSubresources? Subresources { get; set; }

    public JsonElement? AdditionalPrinterColumns { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
