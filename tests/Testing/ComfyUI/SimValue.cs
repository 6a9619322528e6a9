namespace ComfyOperator.Testing.ComfyUI;

/// <summary>A simulated non-image value (MODEL, CLIP, VAE, CONDITIONING, LATENT, MASK): a content hash plus shape.</summary>
internal sealed record SimValue(string Type, ulong Hash, int Width = 0, int Height = 0, int Batch = 1)
{
    public override string ToString() => $"<simulated {Type} {Hash:x16}>";
}
