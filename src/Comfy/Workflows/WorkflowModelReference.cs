namespace ComfyOperator.Comfy.Workflows;

/// <summary>A model file a graph loads: <paramref name="FileName"/> in model folder <paramref name="Folder"/> (e.g. checkpoints).</summary>
public sealed record WorkflowModelReference(string NodeId, string ClassType, string InputName, string Folder, string FileName);
