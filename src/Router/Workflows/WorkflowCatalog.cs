using System.Collections.Concurrent;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Every workflow the router serves, by name: the cluster's WorkflowDeployments over the files'
/// over the presets (a deployment named <c>sdxl</c> replaces the preset of that name).
/// </summary>
internal sealed class WorkflowCatalog
{
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, WorkflowDefinition>> _layers = new(StringComparer.Ordinal);

    public WorkflowCatalog()
    {
        _layers[WorkflowSourceNames.Preset] = BuiltInWorkflows.All.ToDictionary(w => w.Name, StringComparer.Ordinal);
    }

    /// <summary>Raised after a source replaced its workflows.</summary>
    public event EventHandler? Changed;

    public IReadOnlyList<WorkflowDefinition> All =>
        [.. Merged().Values.OrderBy(w => w.Name, StringComparer.Ordinal)];

    public WorkflowDefinition? Find(string name)
    {
        foreach (var layer in Order)
        {
            if (_layers.TryGetValue(layer, out var workflows) && workflows.TryGetValue(name, out var workflow))
            {
                return workflow;
            }
        }

        return null;
    }

    /// <summary>Replaces everything <paramref name="source"/> contributes.</summary>
    public void Replace(string source, IEnumerable<WorkflowDefinition> workflows)
    {
        var map = new Dictionary<string, WorkflowDefinition>(StringComparer.Ordinal);
        foreach (var workflow in workflows)
        {
            map[workflow.Name] = workflow;
        }

        _layers[source] = map;
        Changed?.Invoke(this, EventArgs.Empty);
    }

    private static readonly string[] Order = [WorkflowSourceNames.Kubernetes, WorkflowSourceNames.File, WorkflowSourceNames.Preset];

    private Dictionary<string, WorkflowDefinition> Merged()
    {
        var merged = new Dictionary<string, WorkflowDefinition>(StringComparer.Ordinal);
        foreach (var layer in Order.Reverse())
        {
            if (_layers.TryGetValue(layer, out var workflows))
            {
                foreach (var (name, workflow) in workflows)
                {
                    merged[name] = workflow;
                }
            }
        }

        return merged;
    }
}
