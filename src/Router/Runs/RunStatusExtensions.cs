namespace ComfyOperator.Router.Runs;

internal static class RunStatusExtensions
{
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;

    /// <summary>The wire name: lower case, as in the API and the store.</summary>
    public static string ToWire(this RunStatus status) => status switch
    {
        RunStatus.Queued => "queued",
        RunStatus.Dispatching => "dispatching",
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Failed => "failed",
        RunStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static bool TryParseWire(string? text, out RunStatus status)
    {
        foreach (var candidate in Enum.GetValues<RunStatus>())
        {
            if (string.Equals(candidate.ToWire(), text, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        }

        status = default;
        return false;
    }
}
