namespace ComfyOperator.Entities;

/// <summary>The API group and version of our custom resources.</summary>
public static class EntityApi
{
    public const string Group = "comfyoperator.io";

    public const string Version = "v1alpha1";

    public const string ApiVersion = Group + "/" + Version;

    /// <summary>The <c>kubectl get comfy</c> category both kinds belong to.</summary>
    public const string Category = "comfy";

    /// <summary>Field manager and event source name of the operator.</summary>
    public const string OperatorName = "comfy-operator";
}
