namespace ComfyOperator.Router.Runs;

/// <summary>A submitted run placed on a worker before it was stored (<see cref="IImmediateDispatcher.TryPlace"/>).</summary>
internal interface IImmediateDispatch
{
    /// <summary>The worker's base address, as a run records it.</summary>
    string Worker { get; }

    /// <summary>The prompt id the attempt posts the run under.</summary>
    string PromptId { get; }

    /// <summary>The worker session's client id now (null while it has none).</summary>
    string? ClientId { get; }

    /// <summary>The run is stored dispatching on <see cref="Worker"/>: its attempt starts.</summary>
    void Start(RunRecord run);

    /// <summary>The run was not stored so (a limit, a replayed key, a failed write): the worker's slot goes back.</summary>
    void Abandon();
}
