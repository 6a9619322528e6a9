using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Events;

/// <summary><c>execution_error</c>: a node raised. <see cref="IsBlocked"/> marks the ExecutionBlocker kind, after which execution goes on.</summary>
public sealed record ComfyExecutionErrorEvent(
    string? NodeId,
    string? NodeType,
    IReadOnlyList<string> Executed,
    string? ExceptionMessage,
    string? ExceptionType,
    IReadOnlyList<string> Traceback,
    JsonNode? CurrentInputs,
    IReadOnlyList<string> CurrentOutputs,
    long? Timestamp) : ComfyEvent
{
    public override string Type => "execution_error";

    /// <summary>
    /// The "ExecutionBlocked" variant (no timestamp, execution continues, not in history, §5.3): it
    /// is not the prompt's outcome.
    /// </summary>
    public bool IsBlocked => ExceptionType == "ExecutionBlocked" && Timestamp is null;
}
