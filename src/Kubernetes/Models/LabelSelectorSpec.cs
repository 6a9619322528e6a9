using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>metav1.LabelSelector as it appears inside objects.</summary>
public sealed class LabelSelectorSpec
{
    public IDictionary<string, string>? MatchLabels { get; set; }

    public IList<LabelSelectorRequirement>? MatchExpressions { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
