namespace ComfyOperator.Router.Submissions;

/// <summary>How a submission ended.</summary>
internal enum SubmitStatus
{
    /// <summary>Stored as queued.</summary>
    Created,

    /// <summary>The idempotency key was seen before: the original run.</summary>
    Replayed,

    /// <summary>The request is wrong (<see cref="SubmitRunOutcome.Problem"/>).</summary>
    Invalid,

    UnknownWorkflow,

    /// <summary>The workflow exists but cannot run (<see cref="SubmitRunOutcome.Workflow"/> has its problems).</summary>
    WorkflowInvalid,

    /// <summary>Refused by the readiness rule (<see cref="SubmitRunOutcome.Readiness"/>).</summary>
    Unavailable,

    PendingLimitReached,
    OwnerLimitReached,
    DeploymentLimitReached,
}
