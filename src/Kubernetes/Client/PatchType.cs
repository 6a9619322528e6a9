namespace ComfyOperator.Kubernetes.Client;

public enum PatchType
{
    /// <summary>RFC 7386 JSON merge patch (<c>application/merge-patch+json</c>).</summary>
    MergePatch,

    /// <summary>RFC 6902 JSON patch (<c>application/json-patch+json</c>).</summary>
    JsonPatch,

    /// <summary>Server-side apply (<c>application/apply-patch+yaml</c>); needs a field manager.</summary>
    ApplyPatch,

    /// <summary>Strategic merge patch (built-in kinds only).</summary>
    StrategicMergePatch,
}
