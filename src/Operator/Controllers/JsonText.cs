using k8s;

namespace ComfyOperator.Operator.Controllers;

/// <summary>
/// The wire JSON of a value, for "did it change" comparisons. The package's
/// <see cref="KubernetesJson.Serialize(object, System.Text.Json.JsonSerializerOptions)"/> throws on null
/// (an absent <c>data</c> or list), which here is just another value.
/// </summary>
internal static class JsonText
{
    public static string Of(object? value) => value is null ? "null" : KubernetesJson.Serialize(value);
}
