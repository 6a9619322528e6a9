namespace ComfyOperator.Router.Workers;

/// <summary>Prompts left on a worker without a run to follow them; they are deleted there (or interrupted) in the background.</summary>
internal interface IAbandonedPrompts
{
    Task AddAsync(Uri worker, string promptId, string runId, CancellationToken cancellationToken);
}
