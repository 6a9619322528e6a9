using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.WebUi;

/// <summary>
/// Which worker serves ComfyUI's front end (the page, its assets, extensions' web files, templates,
/// translations). One worker at a time, so the files of one page's start-up all come from one
/// ComfyUI version: the first healthy worker by name, kept while it stays healthy, even when a
/// worker earlier by name comes back; the next healthy one by name when it goes.
/// </summary>
internal sealed class FrontEndWorkers(WorkerRegistry registry)
{
    private readonly Lock _gate = new();
    private string? _current;

    /// <summary>The healthy workers in the order to try them: the current one first, then the others by name.</summary>
    public IReadOnlyList<WorkerState> Candidates()
    {
        var healthy = registry.Workers
            .Where(w => !w.Removed && w.ActiveHealth == HealthState.Healthy)
            .OrderBy(w => w.Name, StringComparer.Ordinal)
            .ToList();
        string? current;
        lock (_gate)
        {
            current = _current;
        }

        return current is not null && healthy.FindIndex(w => w.Name == current) is var index and > 0
            ? [healthy[index], .. healthy.Where((_, i) => i != index)]
            : healthy;
    }

    /// <summary>The worker that answered: later requests go to it while it stays healthy.</summary>
    public void Served(WorkerState worker)
    {
        lock (_gate)
        {
            _current = worker.Name;
        }
    }
}
