using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// One committed object version. <see cref="Node"/> is read only under the cluster lock and never
/// mutated after commit; <see cref="Json"/> (its serialised form) is what leaves the lock.
/// </summary>
internal sealed class StoredObject(string storageKey, string? ns, string name, string uid, long resourceVersion, JsonObject node, byte[] json)
{
    public string StorageKey { get; } = storageKey;

    public string? Namespace { get; } = ns;

    public string Name { get; } = name;

    public string Uid { get; } = uid;

    public long ResourceVersion { get; } = resourceVersion;

    public JsonObject Node { get; } = node;

    public byte[] Json { get; } = json;

    public string? ApiVersion { get; } = MetadataRules.Str(node["apiVersion"]);

    public string Key => Namespace is null ? Name : $"{Namespace}/{Name}";

    /// <summary>A private mutable copy.</summary>
    public JsonObject Clone() => JsonNode.Parse(Json)!.AsObject();
}
