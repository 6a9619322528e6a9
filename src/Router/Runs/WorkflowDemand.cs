namespace ComfyOperator.Router.Runs;

/// <summary>
/// A workflow's demand: <paramref name="Pending"/> runs waiting in the queue and <paramref name="Running"/>
/// runs on a worker (dispatching or running), as the run store holds them.
/// </summary>
internal sealed record WorkflowDemand(int Pending, int Running)
{
    public static readonly WorkflowDemand None = new(0, 0);

    /// <summary>Runs waiting or running: what an autoscaler sizes the fleet by.</summary>
    public int Total => Pending + Running;
}
