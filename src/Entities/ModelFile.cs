using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;

namespace ComfyOperator.Entities;

/// <summary>A model file to have in the cache: downloaded from <see cref="Url"/> to <c>&lt;cache&gt;/&lt;folder&gt;/&lt;filename&gt;</c>.</summary>
[Description("A model file to have in the shared cache.")]
public sealed class ModelFile
{
    [Description("Where to download the file from (http or https).")]
    [Required]
    [RegularExpression("^https?://")]
    [SuppressMessage("Design", "CA1056:URI-like properties should not be strings", Justification = "Wire shape of the resource; users write a string.")]
    public string Url { get; set; } = string.Empty;

    [Description("ComfyUI model folder key, e.g. checkpoints, loras, vae, text_encoders, diffusion_models.")]
    [Required]
    [RegularExpression("^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    public string Folder { get; set; } = string.Empty;

    [Description("File name inside the folder; may contain sub-folders (SDXL/base.safetensors), never '..'.")]
    [Required]
    [RegularExpression("^[^/.][^\\\\]*$")]
    public string Filename { get; set; } = string.Empty;

    [Description("Expected SHA-256 of the file (lower-case hex). Checked after download; a mismatch fails the sync.")]
    [RegularExpression("^[a-f0-9]{64}$")]
    public string? Sha256 { get; set; }
}
