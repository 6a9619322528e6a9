namespace ComfyOperator.Router.Nodes;

/// <summary>The workers added through <c>POST /v1/nodes</c>; <see cref="NodeAdministration"/> keeps it in step with the node store.</summary>
internal sealed class ApiNodeSource : INodeSource
{
    private readonly Lock _gate = new();
    private IReadOnlyList<NodeEndpoint> _current = [];

    public IReadOnlyList<NodeEndpoint> Current => Volatile.Read(ref _current);

    public event EventHandler? Changed;

    public void Replace(IEnumerable<StoredNode> nodes)
    {
        lock (_gate)
        {
            Volatile.Write(ref _current, [.. nodes.Select(ToEndpoint)]);
        }

        Changed?.Invoke(this, EventArgs.Empty);
    }

    public void Add(StoredNode node)
    {
        lock (_gate)
        {
            Volatile.Write(ref _current, [.. _current.Where(n => n.BaseAddress != node.Url), ToEndpoint(node)]);
        }

        Changed?.Invoke(this, EventArgs.Empty);
    }

    public void Remove(Uri url)
    {
        lock (_gate)
        {
            Volatile.Write(ref _current, [.. _current.Where(n => n.BaseAddress != url)]);
        }

        Changed?.Invoke(this, EventArgs.Empty);
    }

    private static NodeEndpoint ToEndpoint(StoredNode node) =>
        new(node.Url, NodeSources.Api) { Labels = node.Labels, MaxQueue = node.MaxQueue };
}
