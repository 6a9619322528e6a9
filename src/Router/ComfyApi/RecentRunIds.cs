namespace ComfyOperator.Router.ComfyApi;

/// <summary>The last <c>capacity</c> run ids added, for a membership check; the oldest are forgotten.</summary>
internal sealed class RecentRunIds(int capacity)
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();

    public void Add(string runId)
    {
        lock (_gate)
        {
            if (!_ids.Add(runId))
            {
                return;
            }

            _order.Enqueue(runId);
            if (_order.Count > capacity)
            {
                _ids.Remove(_order.Dequeue());
            }
        }
    }

    public bool Contains(string runId)
    {
        lock (_gate)
        {
            return _ids.Contains(runId);
        }
    }
}
