namespace ComfyOperator.Router.Runs;

/// <summary>One entry of a run's event stream: <see cref="Sequence"/> is per run, starts at 1, and is the SSE id.</summary>
internal sealed record RunEvent(string RunId, long Sequence, string Type, string Data, DateTimeOffset At);
