namespace ComfyOperator.Router.Runs;

/// <summary>Why a run failed: a stable code (<c>execution_error</c>, <c>timeout</c>, <c>worker_lost</c>, <c>rejected</c>...) and what ComfyUI said.</summary>
internal sealed record RunFailure(string Code, string Message, string? NodeId = null, string? NodeType = null, string? ExceptionType = null);
