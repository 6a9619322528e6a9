namespace ComfyOperator.Comfy.Client;

/// <summary>A file as ComfyUI names it everywhere: history outputs, executed events, /view, uploads.</summary>
/// <param name="Filename">Base file name.</param>
/// <param name="Subfolder">Folder inside the type's root ("" for the root).</param>
/// <param name="Type"><c>output</c>, <c>input</c> or <c>temp</c>.</param>
public sealed record ComfyFileRef(string Filename, string Subfolder = "", string Type = "output")
{
    /// <summary>The value a LoadImage-like input expects for this file: <c>subfolder/name</c> or <c>name</c>.</summary>
    public string PromptValue => string.IsNullOrEmpty(Subfolder) ? Filename : $"{Subfolder}/{Filename}";
}
