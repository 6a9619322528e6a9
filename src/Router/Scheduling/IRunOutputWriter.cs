using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Stores the files a run produced.</summary>
internal interface IRunOutputWriter
{
    /// <summary>
    /// Stores <paramref name="content"/> as output <paramref name="name"/> of node <paramref name="nodeId"/>
    /// under <c>&lt;output name&gt;/&lt;file&gt;</c> (the workflow's name for the node, else the node id).
    /// The store retries; an exception means the file could not be stored.
    /// </summary>
    Task<RunOutput> SaveAsync(RunRecord run, string nodeId, string name, string fileName, Stream content, CancellationToken cancellationToken);

    /// <summary>Deletes a stored <paramref name="output"/> of <paramref name="run"/> that the run does not record.</summary>
    Task DeleteAsync(RunRecord run, RunOutput output, CancellationToken cancellationToken);
}
