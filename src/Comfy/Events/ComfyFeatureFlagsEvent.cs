using ComfyOperator.Comfy.Client;

namespace ComfyOperator.Comfy.Events;

/// <summary><c>feature_flags</c>: the server's reply to our hello.</summary>
public sealed record ComfyFeatureFlagsEvent(ComfyFeatures Features) : ComfyEvent
{
    public override string Type => "feature_flags";
}
