namespace ComfyOperator.Router.Runs;

/// <summary>What is wrong with a submitted graph: a sentence, the JSON path of the culprit and, when it is one node, its id.</summary>
internal sealed record WorkflowProblem(string Detail, string Field, string? Node = null, bool IsUiFormat = false);
