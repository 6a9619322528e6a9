namespace ComfyOperator.Router.Runs;

/// <summary>A file a run produced, kept in the output store under the run's id and <see cref="Name"/>.</summary>
internal sealed record RunOutput(string Name, string NodeId, string ContentType, long Size);
