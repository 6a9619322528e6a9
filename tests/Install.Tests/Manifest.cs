namespace ComfyOperator.Install.Tests;

/// <summary>One rendered Kubernetes object: its YAML text and the parsed tree (dictionaries, lists, strings).</summary>
internal sealed record Manifest(string Source, string Yaml, IReadOnlyDictionary<string, object?> Root)
{
    public string ApiVersion => (string)Root["apiVersion"]!;

    public string Kind => (string)Root["kind"]!;

    public string Name => Get("metadata.name") as string ?? "";

    public string? Namespace => Get("metadata.namespace") as string;

    /// <summary>A value by dotted path ("spec.template.spec.containers"); null when any part is missing.</summary>
    public object? Get(string path) => Tree.Get(Root, path);

    public override string ToString() => $"{Kind}/{Name} ({Source})";
}
