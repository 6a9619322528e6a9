namespace ComfyOperator.Kubernetes;

/// <summary>
/// The log event ids of this assembly, all in 4000–4999. Each assembly has its own range so that no
/// two messages share an id in one process (the operator loads Kubernetes, Operator, Comfy and
/// Observability; the router loads Router, Comfy, Kubernetes and Observability).
/// </summary>
internal static class EventIds
{
    public const int RangeStart = 4000;
    public const int RangeEnd = 4999;

    public const int InformerListed = 4101;
    public const int InformerRelist = 4102;
    public const int InformerFailure = 4103;
    public const int InformerHandlerFailed = 4104;
    public const int LeaseElectionStartedLeading = 4201;
    public const int LeaseElectionStoppedLeading = 4202;
    public const int LeaseElectionLeaseError = 4204;
    public const int LeaseElectionReleased = 4205;
    public const int LeaseElectionNewLeader = 4206;
    public const int EventRecorderEventFailed = 4301;
}
