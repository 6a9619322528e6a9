using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Names and stores a run's output files in the output store (local directory or S3).</summary>
internal sealed class RunOutputWriter(IOutputStore outputs, WorkflowCatalog catalog, RouterMetrics metrics) : IRunOutputWriter
{
    public async Task<RunOutput> SaveAsync(RunRecord run, string nodeId, string name, string fileName, Stream content, CancellationToken cancellationToken)
    {
        var output = OutputNameOf(run, nodeId);
        var storedAs = $"{OutputNames.Sanitize(output ?? nodeId)}/{OutputNames.Sanitize(fileName)}";
        try
        {
            var size = await outputs.SaveAsync(run.Id, storedAs, content, cancellationToken);
            return new RunOutput(name, nodeId, OutputNames.ContentType(name), size) { StoredAs = storedAs, Output = output };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            metrics.S3UploadFailed();
            throw;
        }
    }

    public Task DeleteAsync(RunRecord run, RunOutput output, CancellationToken cancellationToken) =>
        outputs.DeleteAsync(run.Id, output.StorePath, cancellationToken);

    /// <summary>The name a workflow run's deployment gives the output node (<c>outputs[].name</c>); null for raw graphs or unnamed nodes.</summary>
    private string? OutputNameOf(RunRecord run, string nodeId) =>
        run.Deployment is { } deployment && catalog.Find(deployment) is { } workflow
            ? workflow.Outputs.FirstOrDefault(o => string.Equals(o.Node, nodeId, StringComparison.Ordinal))?.Name
            : null;
}
