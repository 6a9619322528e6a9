namespace ComfyOperator.Comfy.Events;

/// <summary>One node of a <c>progress_state</c> message. State: running, finished, pending, error.</summary>
public sealed record ComfyNodeProgress(
    string NodeId,
    double Value,
    double Max,
    string State,
    string? DisplayNodeId,
    string? ParentNodeId,
    string? RealNodeId);
