namespace ComfyOperator.Comfy.Events;

/// <summary><c>execution_cached</c>: nodes whose outputs come from the cache and will not run.</summary>
public sealed record ComfyExecutionCachedEvent(IReadOnlyList<string> Nodes, long? Timestamp) : ComfyEvent
{
    public override string Type => "execution_cached";
}
