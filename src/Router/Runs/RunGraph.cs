using System.Text.Json;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Inputs;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// A run's graph, parsed once (at submit, or when a stored run enters the queue again) and carried
/// with the queued run to its attempt, with what scheduling needs of it worked out once: the
/// models and node classes workers must already have. Each attempt posts a copy (<see cref="WorkflowGraph.ToPrompt"/>),
/// so the graph itself never changes after it is queued.
/// </summary>
internal sealed class RunGraph
{
    private RunGraph(WorkflowGraph graph)
    {
        Graph = graph;

        // A model given as a URL, data: URI or cache: reference is brought to the worker by the input resolver, not required of it.
        Models = [.. graph.GetModelReferences()
            .Where(r => !RunInputResolver.IsProvided(r.FileName))
            .Select(r => new ModelRequirement(r.Folder, r.FileName)).Distinct()];
        NodeClasses = [.. graph.Nodes.Select(n => n.ClassType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    public WorkflowGraph Graph { get; }

    /// <summary>The model files the graph loads that workers must already have.</summary>
    public IReadOnlyList<ModelRequirement> Models { get; }

    /// <summary>The node classes the graph uses, each once, in ordinal order: a worker must have them all.</summary>
    public IReadOnlyList<string> NodeClasses { get; }

    /// <summary>Nodes in the graph (the denominator of a run's progress).</summary>
    public int NodeCount => Graph.Count;

    public static RunGraph Of(WorkflowGraph graph) => new(graph);

    /// <summary>The stored graph of a run, or null when it does not parse (its attempt then fails as invalid_workflow).</summary>
    public static RunGraph? TryParse(string workflow)
    {
        try
        {
            return new RunGraph(WorkflowGraph.Parse(workflow));
        }
        catch (Exception ex) when (ex is WorkflowFormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
