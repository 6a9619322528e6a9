namespace ComfyOperator.Comfy.Client;

/// <summary>The answer of an upload: the final name (it may have been renamed).</summary>
public sealed record ComfyUploadResult(string Name, string Subfolder, string Type)
{
    /// <summary>The value to put into LoadImage's <c>image</c> input.</summary>
    public string PromptValue => string.IsNullOrEmpty(Subfolder) ? Name : $"{Subfolder}/{Name}";

    /// <summary>The uploaded file as a reference for /view.</summary>
    public ComfyFileRef File => new(Name, Subfolder, Type);
}
