namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// Knobs of a <see cref="ComfyUiSimulator"/>. Every property may be changed while the simulator runs;
/// the next request or execution step reads the new value.
/// </summary>
public sealed class ComfyUiSimulatorOptions
{
    /// <summary>Address to bind; any 127.0.0.x works on Linux, so many simulators can share a port number.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Port to bind; 0 picks a free one (kept across <see cref="ComfyUiSimulator.Revive"/>).</summary>
    public int Port { get; set; }

    /// <summary>Models root (folders checkpoints, loras, vae, text_encoders, diffusion_models...). Null: a temp dir with a default set of fake models.</summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>Input folder (uploads, LoadImage). Null: a temp dir deleted on dispose.</summary>
    public string? InputDirectory { get; set; }

    /// <summary>Output folder (SaveImage). Null: a temp dir deleted on dispose.</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>Temp folder (PreviewImage). Null: a temp dir deleted on dispose.</summary>
    public string? TempDirectory { get; set; }

    /// <summary>Time per sampler step (KSampler, KSamplerAdvanced).</summary>
    public TimeSpan StepDelay { get; set; }

    /// <summary>Time paid when a loader node loads a checkpoint/unet other than the one loaded now.</summary>
    public TimeSpan ModelLoadDelay { get; set; }

    /// <summary>Delay before GET /system_stats answers (a slow or overloaded worker).</summary>
    public TimeSpan SystemStatsDelay { get; set; }

    /// <summary>Node id (or class_type) that raises a runtime error when it executes.</summary>
    public string? FailAtNode { get; set; }

    /// <summary>Reported GPU name in /system_stats (formatted like torch: <c>cuda:0 NAME : cudaMallocAsync</c>).</summary>
    public string GpuName { get; set; } = "NVIDIA GeForce RTX 4090 (simulated)";

    /// <summary>Reported VRAM in bytes.</summary>
    public long VramTotal { get; set; } = 25_386_352_640;

    /// <summary>Reported <c>comfyui_version</c>. Before 0.3.44 the ws feature_flags hello is ignored (no reply, type 1 previews only).</summary>
    public string Version { get; set; } = "0.3.64";

    /// <summary>Time the server takes to read a connection's feature_flags hello (a busy event loop): until then that connection gets type 1 previews.</summary>
    public TimeSpan FeatureFlagsDelay { get; set; }

    /// <summary><c>--max-upload-size</c> in MB; limits every request body (413 above it).</summary>
    public double MaxUploadSizeMb { get; set; } = 100;

    /// <summary><c>--preview-method</c>: "none" (default, like ComfyUI) or anything else to send a preview frame per sampler step.</summary>
    public string PreviewMethod { get; set; } = "none";

    /// <summary><c>--disable-metadata</c>: no prompt/workflow text chunks in saved PNGs.</summary>
    public bool DisableMetadata { get; set; }

    /// <summary>
    /// Node classes of the library this server lacks (a custom node pack it does not have installed):
    /// left out of <c>/object_info</c> and refused at validation like any unknown class.
    /// </summary>
    public ISet<string> MissingNodeClasses { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// ComfyOperator's cleanup custom node: null = not installed (its route is unknown, 404); "" = installed
    /// without <c>COMFYOPERATOR_CLEANUP_TOKEN</c> (403); otherwise the token requests must carry.
    /// </summary>
    public string? CleanupToken { get; set; }

    /// <summary>Time source for timestamps and delays.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
