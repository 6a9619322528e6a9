using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Submissions;

/// <summary>The one outcome of a submission; each front door maps it to its own response.</summary>
internal sealed record SubmitRunOutcome(SubmitStatus Status)
{
    /// <summary>The run, when <see cref="SubmitStatus.Created"/> or <see cref="SubmitStatus.Replayed"/>.</summary>
    public RunRecord? Run { get; init; }

    public SubmitProblem? Problem { get; init; }

    public WorkflowReadiness? Readiness { get; init; }

    /// <summary>The workflow submitted to, when it was found.</summary>
    public WorkflowDefinition? Workflow { get; init; }

    /// <summary>The limit that was reached (the <c>...LimitReached</c> statuses).</summary>
    public int Limit { get; init; }
}
