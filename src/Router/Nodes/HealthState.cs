namespace ComfyOperator.Router.Nodes;

internal enum HealthState
{
    Unknown,
    Healthy,
    Unhealthy,
}
