namespace ComfyOperator.Router.Runs;

/// <summary>
/// Places a run being submitted on a worker at once, when the queue's own decision would take it now (the
/// dispatcher implements it): the run is then stored already dispatching on that worker, in its insert, and its
/// attempt starts without waiting in the queue.
/// </summary>
internal interface IImmediateDispatcher
{
    /// <summary>
    /// The worker the ready run <paramref name="run"/> (built, not stored yet) is taken for now, held for it until
    /// <see cref="IImmediateDispatch.Start"/> or <see cref="IImmediateDispatch.Abandon"/>; null when it is to be
    /// stored queued (a queued run goes first, no worker can take it now, or runs are not placed at submit here).
    /// </summary>
    IImmediateDispatch? TryPlace(RunRecord run, RunGraph graph);
}
