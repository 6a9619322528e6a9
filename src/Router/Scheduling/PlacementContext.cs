using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>What a policy may know about the run it places and the workers' recent past.</summary>
/// <param name="Run">The run.</param>
/// <param name="Requirements">Its labels, models and affinity model.</param>
/// <param name="LastModel">The checkpoint/unet the worker's last placed run loads (still in VRAM), or null.</param>
/// <param name="LoadCost">What loading another model costs, in queued runs.</param>
internal sealed record PlacementContext(QueuedRun Run, RunRequirements Requirements, Func<WorkerState, string?> LastModel, double LoadCost);
