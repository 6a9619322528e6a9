namespace ComfyOperator.Router.Workers;

/// <summary>The per-prompt messages of a ComfyUI worker that the dispatcher acts on.</summary>
internal enum WorkerEventKind
{
    Started,
    Cached,
    Executing,
    Progress,
    Executed,
    Preview,
    Succeeded,
    Failed,
    Interrupted,

    /// <summary><c>executing</c> with <c>node: null</c>: the prompt is over and its history entry exists.</summary>
    Done,
}
