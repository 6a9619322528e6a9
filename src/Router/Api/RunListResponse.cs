namespace ComfyOperator.Router.Api;

/// <summary>A page of runs, newest first; follow <see cref="Next"/> (or pass <see cref="NextCursor"/>) for the next page.</summary>
internal sealed record RunListResponse(IReadOnlyList<RunResponse> Runs, string? NextCursor, string? Next);
