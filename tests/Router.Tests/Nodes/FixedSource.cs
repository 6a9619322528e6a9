using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Tests.Nodes;

/// <summary>A node source whose nodes never change.</summary>
internal sealed class FixedSource(IReadOnlyList<NodeEndpoint> nodes) : INodeSource
{
    public IReadOnlyList<NodeEndpoint> Current => nodes;

    public event EventHandler? Changed { add { } remove { } }
}
