namespace ComfyOperator.Router.Runs;

/// <summary>Queued → Dispatching → Running → Succeeded | Failed | Cancelled.</summary>
internal enum RunStatus
{
    Queued,
    Dispatching,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
