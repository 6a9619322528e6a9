namespace ComfyOperator.Router.Api;

/// <summary>Why a run failed, with the ComfyUI node when the failure came from one.</summary>
internal sealed record RunFailureResponse(string Code, string Message, string? NodeId, string? NodeType, string? ExceptionType);
