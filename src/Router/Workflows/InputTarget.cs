namespace ComfyOperator.Router.Workflows;

/// <summary>Where a public input's value lands: <c>graph[Node].inputs[Input]</c>.</summary>
internal sealed record InputTarget(string Node, string Input);
