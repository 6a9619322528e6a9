namespace ComfyOperator.Router.Workflows;

/// <summary>Why a run's inputs were refused: the input, the rule it broke (<see cref="InputRules"/>) and a sentence for people.</summary>
internal sealed record InputError(string Input, string Rule, string Message);
