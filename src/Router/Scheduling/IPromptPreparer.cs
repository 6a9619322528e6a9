using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Makes the prompt one attempt posts to its worker from the run's parsed graph.</summary>
internal interface IPromptPreparer
{
    /// <summary>
    /// The graph with every <c>filename_prefix</c> unique to the run and attempt, and the run's
    /// inputs made visible on <paramref name="worker"/>. Throws <see cref="Inputs.InputRefusedException"/>
    /// when an input cannot be made available, and the client's exceptions when the worker fails.
    /// </summary>
    Task<JsonObject> PrepareAsync(RunRecord run, RunGraph graph, WorkerState worker, ComfyClient client, CancellationToken cancellationToken);
}
