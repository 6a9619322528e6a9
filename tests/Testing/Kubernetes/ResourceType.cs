using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>A served resource: one group/version/plural, built in or defined by a CRD.</summary>
internal sealed record ResourceType
{
    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required string Kind { get; init; }

    public required bool Namespaced { get; init; }

    public string ListKind => ListKindOverride ?? Kind + "List";

    public string? ListKindOverride { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Main endpoint ignores <c>status</c>; <c>/status</c> writes only status.</summary>
    public bool HasStatusSubresource { get; init; }

    public ScaleSubresource? Scale { get; init; }

    /// <summary>metadata.generation is maintained (CRs and spec/status built-ins).</summary>
    public bool HasGeneration { get; init; }

    /// <summary>Names are DNS-1123 labels (namespaces, services) rather than subdomains.</summary>
    public bool NameIsLabel { get; init; }

    /// <summary>No name-format check (core/v1 Events).</summary>
    public bool NameUnchecked { get; init; }

    /// <summary>Set for CR types: the version's openAPIV3Schema.</summary>
    public JsonObject? Schema { get; init; }

    public bool IsCustom { get; init; }

    /// <summary>Several routes may share one store (core and events.k8s.io Events; CRD versions).</summary>
    public required string StorageKey { get; init; }

    public IReadOnlyList<PrinterColumn> Columns { get; init; } = [];

    public bool Terminating { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string GroupVersion => ApiVersion;

    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string QualifiedKind => Group.Length == 0 ? Kind : $"{Kind}.{Group}";
}
