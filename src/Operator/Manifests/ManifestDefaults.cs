namespace ComfyOperator.Operator.Manifests;

/// <summary>Operator-wide settings the manifest builders need (from the operator's options).</summary>
internal sealed record ManifestDefaults
{
    /// <summary>ComfyUI image for nodes that name none.</summary>
    public string ComfyImage { get; init; } = "ghcr.io/comfyoperator/comfyui:latest";

    /// <summary>Image holding the comfy-operator binary, used for the sync-models init container.</summary>
    public string OperatorImage { get; init; } = "ghcr.io/comfyoperator/comfy-operator:latest";

    /// <summary>How the ComfyUI image starts ComfyUI; our flags are passed as args after it.</summary>
    public IReadOnlyList<string> ComfyCommand { get; init; } = ["python", "main.py"];

    /// <summary>Non-root user (and group) the pod runs as.</summary>
    public long RunAsUser { get; init; } = 1000;

    /// <summary>Size limit of the pod's scratch volume (ComfyUI's input, output and temp folders); null = none.</summary>
    public string? ScratchSizeLimit { get; init; }

    /// <summary>
    /// The secret shared with the router for worker disk cleanup; null = off. Each pod gets its own
    /// token derived from it (<see cref="Entities.WorkerCleanup.TokenFor"/>), not the secret.
    /// </summary>
    public string? WorkerCleanupSecret { get; init; }

    /// <summary>Cache mount path for models when the node declares models but no shared cache.</summary>
    public string ScratchModelPath { get; init; } = "/models-cache";
}
