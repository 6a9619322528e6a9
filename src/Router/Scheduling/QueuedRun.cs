namespace ComfyOperator.Router.Scheduling;

/// <summary>What the queue needs to order a run.</summary>
internal sealed record QueuedRun(string RunId, int Priority, long Sequence);
