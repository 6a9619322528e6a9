using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>What a running node may use: identity, the prompt (for PNG metadata), folders, and the executor's hooks.</summary>
internal sealed class NodeRunContext
{
    public required string PromptId { get; init; }

    public required string NodeId { get; init; }

    public required JsonObject Prompt { get; init; }

    public required JsonObject ExtraData { get; init; }

    public required ComfyUiSimulatorOptions Options { get; init; }

    public required string InputDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public required string TempDirectory { get; init; }

    /// <summary>ProgressBar.update_absolute: interrupt check, then progress_state + progress (+ preview).</summary>
    public required Func<int, int, byte[]?, CancellationToken, Task> ProgressAsync { get; init; }

    /// <summary>One sampler step's time (StepDelay), cut short by an interrupt.</summary>
    public required Func<CancellationToken, Task> StepDelayAsync { get; init; }

    /// <summary>Loads a checkpoint/unet, paying ModelLoadDelay when it differs from the loaded one.</summary>
    public required Func<string, CancellationToken, Task> LoadModelAsync { get; init; }

    /// <summary>Whether sampler previews are on for this prompt.</summary>
    public required bool PreviewsEnabled { get; init; }
}
