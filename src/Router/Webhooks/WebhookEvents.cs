namespace ComfyOperator.Router.Webhooks;

/// <summary>Event types sent to webhooks.</summary>
internal static class WebhookEvents
{
    public const string Succeeded = "run.succeeded";
    public const string Failed = "run.failed";
    public const string Cancelled = "run.cancelled";
    public const string Started = "run.started";
    public const string Progress = "run.progress";

    public static bool IsKnown(string type) => type is Succeeded or Failed or Cancelled or Started or Progress;
}
