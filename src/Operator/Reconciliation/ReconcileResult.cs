namespace ComfyOperator.Operator.Reconciliation;

/// <summary>
/// What a reconcile asks of the queue (KubeOps' ReconciliationResult): success, optionally again after
/// a delay; or an expected failure, retried with per-key exponential backoff unless a delay is given.
/// </summary>
internal sealed record ReconcileResult(bool Succeeded, TimeSpan? RequeueAfter, string? Error)
{
    public static ReconcileResult Success(TimeSpan? requeueAfter = null) => new(true, requeueAfter, null);

    public static ReconcileResult Failure(string error, TimeSpan? requeueAfter = null) => new(false, requeueAfter, error);
}
