namespace ComfyOperator.Router.Scheduling;

/// <summary>How many workers could run a workflow now; <see cref="Reason"/> says why none can.</summary>
internal sealed record WorkflowReadiness(int Healthy, int Matching, int Ready, string? Reason)
{
    /// <summary>Matching workers exist and all their model lists are known, yet none has the models: the run cannot run anywhere.</summary>
    public bool ModelsMissing { get; init; }

    public bool IsReady => Ready > 0;
}
