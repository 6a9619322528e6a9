namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Overall fraction of a prompt: nodes served from cache and nodes finished count whole, the
/// executing node counts by its step progress.
/// </summary>
internal sealed class ProgressTracker(int totalNodes)
{
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private string? _current;

    public void Cached(IEnumerable<string> nodes)
    {
        foreach (var node in nodes)
        {
            _done.Add(node);
        }
    }

    public void Executing(string? node)
    {
        if (_current is not null && _current != node)
        {
            _done.Add(_current);
        }

        _current = node;
    }

    public double Update(string? node, double value, double max)
    {
        if (node is not null && node != _current)
        {
            Executing(node);
        }

        var partial = max > 0 ? Math.Clamp(value / max, 0, 1) : 0;
        var done = _current is not null && _done.Contains(_current) ? _done.Count - 1 : _done.Count;
        return totalNodes <= 0 ? partial : Math.Min(1, (done + partial) / totalNodes);
    }
}
