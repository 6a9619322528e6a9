using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Operator.Manifests;

/// <summary>Names of the objects made for a ComfyNode. Pure and deterministic: a restarted operator finds what it created.</summary>
internal static class ManifestNames
{
    /// <summary>Where ComfyUI reads its extra model paths and the init container its model list.</summary>
    public const string ConfigMountPath = "/etc/comfy-operator";

    public const string ModelPathsFile = "extra_model_paths.yaml";

    public const string ModelsFile = "models.json";

    public const string DataMountPath = "/comfy-data";

    public const string ContainerName = "comfyui";

    public const string SyncContainerName = "sync-models";

    public const string PortName = "http";

    /// <summary>
    /// <c>&lt;node&gt;-&lt;hash&gt;</c>: the hash is the template hash, so a spec change gives a new name
    /// and a second create of the same template answers 409 instead of making a duplicate pod.
    /// </summary>
    public static string Pod(string nodeName, string templateHash) => $"{Truncate(nodeName, 52)}-{templateHash}";

    public static string ConfigMap(string nodeName) => $"{Truncate(nodeName, 245)}-comfy";

    public static string Service(string nodeName) => Truncate(nodeName, 63);

    /// <summary>A label value (at most 63 characters); long names are cut and suffixed with a short hash to stay unique.</summary>
    public static string LabelValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= 63)
        {
            return value;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..8];
        return $"{Truncate(value, 54)}-{hash}";
    }

    private static string Truncate(string value, int length) =>
        value.Length <= length ? value : value[..length].TrimEnd('-', '.');
}
