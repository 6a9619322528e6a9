namespace ComfyOperator.Kubernetes;

internal static class AssemblyMarker;
