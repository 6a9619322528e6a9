namespace ComfyOperator.Comfy;

/// <summary>
/// The log event ids of this assembly, all in 3000–3999. Each assembly has its own range so that no
/// two messages share an id in one process (the operator loads Kubernetes, Operator, Comfy and
/// Observability; the router loads Router, Comfy, Kubernetes and Observability).
/// </summary>
internal static class EventIds
{
    public const int RangeStart = 3000;
    public const int RangeEnd = 3999;

    public const int SessionLogConnected = 3001;
    public const int SessionLogDisconnected = 3002;
    public const int SessionLogBadFrame = 3003;
    public const int SessionLogPollingHistory = 3004;
    public const int SessionLogPollFailed = 3005;
    public const int SessionLogHistoryFetchFailed = 3006;
    public const int SessionLogCancelFailed = 3007;
}
