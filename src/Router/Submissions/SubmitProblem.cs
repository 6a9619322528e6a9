namespace ComfyOperator.Router.Submissions;

/// <summary>What is wrong with a submission: the kind, a message for people, and the field (<c>workflow.3.inputs.seed</c>, <c>priority</c>...).</summary>
internal sealed record SubmitProblem(SubmitProblemKind Kind, string Message, string Field)
{
    /// <summary>The graph node the problem is in, when there is one.</summary>
    public string? NodeId { get; init; }

    /// <summary>For <see cref="SubmitProblemKind.Input"/>: the rule the value broke (<c>required</c>, <c>type</c>, <c>max</c>...).</summary>
    public string? Rule { get; init; }

    /// <summary>For <see cref="SubmitProblemKind.UnknownNodeClass"/>: the class no worker has.</summary>
    public string? NodeClass { get; init; }
}
