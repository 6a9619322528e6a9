namespace ComfyOperator.Comfy.Client;

/// <summary>Form fields of /upload/image and /upload/mask besides the file (docs/comfyui-protocol.md §4.2).</summary>
public sealed record ComfyUploadOptions
{
    /// <summary>Folder inside the type's root; created if missing.</summary>
    public string? Subfolder { get; init; }

    /// <summary>Overwrite a file of the same name; otherwise a different file gets renamed <c>name (1).ext</c>.</summary>
    public bool Overwrite { get; init; }

    /// <summary><c>input</c> (default), <c>temp</c> or <c>output</c>.</summary>
    public string Type { get; init; } = "input";
}
