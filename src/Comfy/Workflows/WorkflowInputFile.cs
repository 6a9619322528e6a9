namespace ComfyOperator.Comfy.Workflows;

/// <summary>
/// A file a graph reads from the worker's input (or output/temp) folder, e.g. LoadImage's image.
/// <paramref name="FileName"/> is without the " [output]" style annotation, which goes to <paramref name="FolderType"/>.
/// </summary>
public sealed record WorkflowInputFile(string NodeId, string ClassType, string InputName, string FileName, string FolderType);
