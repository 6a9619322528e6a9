using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.WorkerDisks;
using ComfyOperator.Router.Workers;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Each attempt posts a copy of the run's graph where every <c>filename_prefix</c> is unique to the
/// run and attempt, so workers sharing an output volume never race on file names
/// (docs/comfyui-protocol.md §9.4) and a re-run never hits ComfyUI's cache of the save node with
/// an old file name. The copy is made from the graph parsed at submit: nothing is parsed again.
/// </summary>
internal sealed class PromptPreparer(IRunInputResolver inputs, WorkerDiskCleaner disks, CheckpointTracker checkpoints, RouterMetrics metrics) : IPromptPreparer
{
    public const string PrefixRoot = "comfy-router";

    /// <summary>
    /// The folder the attempt's output nodes write under. No other prompt names files in it, not even
    /// a cached re-run (ComfyUI reuses an earlier run's files for a node whose inputs did not change),
    /// so its files are the attempt's own to delete once stored.
    /// </summary>
    public static string OutputFolderOf(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return $"{PrefixRoot}/{run.Id}-{run.Attempts}";
    }

    public async Task<JsonObject> PrepareAsync(RunRecord run, RunGraph graph, WorkerState worker, ComfyClient client, CancellationToken cancellationToken)
    {
        var prompt = graph.Graph.ToPrompt(OutputFolderOf(run), OutputNames.Sanitize);
        await disks.PlacingInputsAsync(run, worker, cancellationToken);
        await inputs.ApplyAsync(prompt, run.Inputs, client, cancellationToken);
        if (checkpoints.Switches(worker.BaseAddress, prompt))
        {
            metrics.CheckpointSwitched(worker.Name);
        }

        return prompt;
    }
}
