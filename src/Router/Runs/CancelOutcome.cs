namespace ComfyOperator.Router.Runs;

internal enum CancelOutcome
{
    NotFound,
    AlreadyFinished,

    /// <summary>The run was still in our queue and is now Cancelled.</summary>
    Cancelled,

    /// <summary>The run is on a worker; it becomes Cancelled once the worker confirms.</summary>
    Requested,
}
