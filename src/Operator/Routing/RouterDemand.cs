namespace ComfyOperator.Operator.Routing;

/// <summary>A workflow's runs pending (queued) and running, as the router counts them from its run store.</summary>
internal sealed record RouterDemand(int Pending, int Running)
{
    public int Total => Pending + Running;
}
