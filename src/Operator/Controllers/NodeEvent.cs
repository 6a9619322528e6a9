namespace ComfyOperator.Operator.Controllers;

/// <summary>An Event to record about the node.</summary>
internal sealed record NodeEvent(string Type, string Reason, string Message);
