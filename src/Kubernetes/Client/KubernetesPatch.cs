using System.Text.Json;
using ComfyOperator.Kubernetes.Serialization;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>A patch body and its type (the official client's <c>V1Patch</c>).</summary>
public sealed record KubernetesPatch(string Content, PatchType Type)
{
    /// <summary>A JSON merge patch from an object (serialized with the API's JSON rules) or a JSON string.</summary>
    public static KubernetesPatch Merge(object patch) => new(ToJson(patch), PatchType.MergePatch);

    /// <summary>A JSON patch from an operation list (e.g. an array of anonymous <c>{op, path, value}</c>) or a JSON string.</summary>
    public static KubernetesPatch Json(object operations) => new(ToJson(operations), PatchType.JsonPatch);

    /// <summary>A server-side apply patch: a partial object with apiVersion, kind and metadata.name.</summary>
    public static KubernetesPatch Apply(object partialObject) => new(ToJson(partialObject), PatchType.ApplyPatch);

    public static KubernetesPatch StrategicMerge(object patch) => new(ToJson(patch), PatchType.StrategicMergePatch);

    internal string ContentType => Type switch
    {
        PatchType.MergePatch => "application/merge-patch+json",
        PatchType.JsonPatch => "application/json-patch+json",
        PatchType.ApplyPatch => "application/apply-patch+yaml",
        PatchType.StrategicMergePatch => "application/strategic-merge-patch+json",
        _ => throw new ArgumentOutOfRangeException(nameof(Type), Type, "Unknown patch type."),
    };

    private static string ToJson(object value) => value switch
    {
        string text => text,
        JsonElement element => element.GetRawText(),
        _ => JsonSerializer.Serialize(value, value.GetType(), KubernetesJson.Options),
    };
}
