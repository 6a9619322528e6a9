namespace ComfyOperator.Router.Nodes;

/// <summary>The workers of several sources together (static list plus the cluster); the first source wins an address both name.</summary>
internal sealed class CombinedNodeSource : INodeSource
{
    private readonly IReadOnlyList<INodeSource> _sources;

    public CombinedNodeSource(params IReadOnlyList<INodeSource> sources)
    {
        _sources = sources;
        foreach (var source in sources)
        {
            source.Changed += (_, _) => Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    public IReadOnlyList<NodeEndpoint> Current =>
        [.. _sources.SelectMany(s => s.Current).GroupBy(n => n.BaseAddress).Select(g => g.First())];

    public event EventHandler? Changed;
}
