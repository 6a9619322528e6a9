namespace ComfyOperator.Router.Runs;

/// <summary>
/// The state changes the dispatcher and a run's attempt make (the run service implements them):
/// each is written to the store with its event and published; null when the run was no longer in
/// the state the change expects (cancelled, finished or re-dispatched meanwhile).
/// </summary>
internal interface IRunTransitions
{
    Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken);

    Task<RunRecord?> BeginDispatchAsync(string id, string worker, string promptId, string? clientId, CancellationToken cancellationToken);

    Task<RunRecord?> SetClientIdAsync(string id, string promptId, string clientId, CancellationToken cancellationToken);

    /// <param name="id">The run.</param>
    /// <param name="promptId">The attempt's prompt id: a run no longer on it is left alone.</param>
    /// <param name="startedAt">When the worker started the prompt, if known (its history's <c>execution_start</c>); now otherwise.</param>
    /// <param name="cancellationToken">Router shutdown.</param>
    Task<RunRecord?> MarkRunningAsync(string id, string promptId, DateTimeOffset? startedAt, CancellationToken cancellationToken);

    Task<RunRecord?> ProgressAsync(string id, string? node, double value, double max, double fraction, CancellationToken cancellationToken);

    Task PreviewAsync(string id, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken);

    Task<RunRecord?> SucceedAsync(string id, string promptId, IReadOnlyList<RunOutput> produced, CancellationToken cancellationToken);

    Task<RunRecord?> FailAsync(string id, string? promptId, RunFailure failure, CancellationToken cancellationToken);

    Task<RunRecord?> MarkCancelledAsync(string id, string? promptId, string reason, CancellationToken cancellationToken);

    Task<RunRecord?> RequeueAsync(string id, string promptId, string reason, CancellationToken cancellationToken);
}
