namespace ComfyOperator.Router.Runs;

/// <summary>The SSE event names.</summary>
internal static class RunEventTypes
{
    public const string State = "state";
    public const string Queued = "queued";
    public const string Requeued = "requeued";
    public const string Dispatching = "dispatching";
    public const string Started = "started";
    public const string Progress = "progress";
    public const string Preview = "preview";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string type) => type is Succeeded or Failed or Cancelled;

    /// <summary>Published at once and written with the run's next write (<see cref="RunService"/>); <c>started</c> only by the router that numbered the run's events.</summary>
    public static bool IsWrittenLater(string type) => type is Started or Progress or Preview;
}
