namespace ComfyOperator.Router.Runs;

/// <summary>A file a run produced. <see cref="Name"/> is its name in the API (unique per run).</summary>
internal sealed record RunOutput(string Name, string NodeId, string ContentType, long Size)
{
    /// <summary>
    /// Where the output store keeps it under the run: <c>&lt;output name&gt;/&lt;file&gt;</c> (the output
    /// is the node that produced it). Null for runs stored before this existed: then <see cref="Name"/>.
    /// </summary>
    public string? StoredAs { get; init; }

    /// <summary>The workflow's name for the output (its deployment's <c>outputs[].name</c>); null for raw graphs.</summary>
    public string? Output { get; init; }

    /// <summary>The file on the worker it was copied from (what disk cleanup deletes there); null for runs stored before this existed.</summary>
    public WorkerDisks.WorkerFile? Source { get; init; }

    public string StorePath => StoredAs ?? Name;
}
