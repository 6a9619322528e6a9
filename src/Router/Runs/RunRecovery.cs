namespace ComfyOperator.Router.Runs;

/// <summary>Hand-over from start-up to the dispatcher: runs that were on a worker when the router last stopped.</summary>
internal sealed class RunRecovery
{
    public IReadOnlyList<RunRecord> OnWorkers { get; set; } = [];
}
