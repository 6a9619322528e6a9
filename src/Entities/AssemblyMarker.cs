namespace ComfyOperator.Entities;

internal static class AssemblyMarker;
