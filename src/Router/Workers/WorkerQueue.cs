namespace ComfyOperator.Router.Workers;

/// <summary>Prompt ids on a worker's <c>/queue</c>.</summary>
internal sealed record WorkerQueue(IReadOnlyList<string> Running, IReadOnlyList<string> Pending)
{
    public bool Contains(string promptId) => Running.Contains(promptId) || Pending.Contains(promptId);
}
