namespace ComfyOperator.Comfy;

internal static class AssemblyMarker;
