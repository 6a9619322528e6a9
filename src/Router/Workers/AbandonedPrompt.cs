namespace ComfyOperator.Router.Workers;

/// <summary>A prompt of a given-up attempt, to be removed from <paramref name="Worker"/> until <paramref name="GiveUpAt"/>.</summary>
/// <param name="Worker">Base address of the worker that may still hold it.</param>
/// <param name="PromptId">The prompt_id the attempt was posted with.</param>
/// <param name="RunId">The run it belonged to (for logs).</param>
/// <param name="GiveUpAt">When to stop trying (<c>Router:AbandonedPromptWindow</c> after it was abandoned).</param>
internal sealed record AbandonedPrompt(Uri Worker, string PromptId, string RunId, DateTimeOffset GiveUpAt)
{
    /// <summary>
    /// Until then a worker that does not have the prompt is asked again instead of being believed: a
    /// POST still in flight (from this process or the one before a restart) can land up to
    /// <c>Router:WorkerRequestTimeout</c> after the attempt was given up. Not stored; set when added or reloaded.
    /// </summary>
    public DateTimeOffset HoldUntil { get; init; }
}
