namespace ComfyOperator.Router.Runs;

/// <summary>A model file a run loads: <paramref name="File"/> in folder <paramref name="Folder"/> (checkpoints, diffusion_models...).</summary>
internal sealed record ModelRequirement(string Folder, string File)
{
    public override string ToString() => $"{Folder}/{File}";
}
