namespace ComfyOperator.Comfy.Workflows;

/// <summary>
/// Core node classes with <c>OUTPUT_NODE = True</c>, used to find output nodes when no
/// object_info is at hand (docs/comfyui-protocol.md §6.2). With an object_info, its <c>output_node</c> wins.
/// </summary>
public static class OutputNodeClasses
{
    public static IReadOnlySet<string> Known { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "SaveImage",
        "PreviewImage",
        "SaveImageWebsocket",
        "SaveAnimatedWEBP",
        "SaveAnimatedPNG",
        "SaveVideo",
        "SaveWEBM",
        "SaveLatent",
        "SaveAudio",
        "SaveAudioMP3",
        "SaveAudioOpus",
        "PreviewAudio",
        "SaveGLB",
        "Preview3D",
        "SaveSVGNode",
        "PreviewAny",
        "SaveText",
        "ImageSaveWithMetadata",
    };
}
