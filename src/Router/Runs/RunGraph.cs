using System.Text;
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
        var models = new List<ModelRequirement>();
        foreach (var reference in graph.GetModelReferences())
        {
            var model = new ModelRequirement(reference.Folder, reference.FileName);
            if (!RunInputResolver.IsProvided(reference.FileName) && !models.Contains(model))
            {
                models.Add(model);
            }
        }

        Models = models;
        var classes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            classes.Add(node.ClassType);
        }

        NodeClasses = [.. classes];
        RequirementsKey = RequirementsKeyOf(Models, NodeClasses);
    }

    public WorkflowGraph Graph { get; }

    /// <summary>The model files the graph loads that workers must already have.</summary>
    public IReadOnlyList<ModelRequirement> Models { get; }

    /// <summary>The node classes the graph uses, each once, in ordinal order: a worker must have them all.</summary>
    public IReadOnlyList<string> NodeClasses { get; }

    /// <summary>The models and node classes as one text (<see cref="RequirementsKeyOf"/>), worked out once: the graph's part of its class of runs.</summary>
    public string RequirementsKey { get; }

    /// <summary>Nodes in the graph (the denominator of a run's progress).</summary>
    public int NodeCount => Graph.Count;

    public static RunGraph Of(WorkflowGraph graph) => new(graph);

    /// <summary>The models (<c>folder/file</c>, ordinal order) then the node classes (<c>class:NAME</c>), joined with <c>|</c>.</summary>
    public static string RequirementsKeyOf(IReadOnlyList<ModelRequirement> models, IReadOnlyList<string> classes)
    {
        var names = new string[models.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = models[i].ToString();
        }

        Array.Sort(names, StringComparer.Ordinal);
        var key = new StringBuilder();
        foreach (var name in names)
        {
            key.Append(key.Length == 0 ? "" : "|").Append(name);
        }

        foreach (var nodeClass in classes)
        {
            key.Append(key.Length == 0 ? "class:" : "|class:").Append(nodeClass);
        }

        return key.ToString();
    }

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
