using System.Threading.Channels;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// One open watch. Frames are pushed from inside the cluster lock (so order equals commit order)
/// into a bounded channel; a reader that falls too far behind gets its stream closed.
/// </summary>
internal sealed class Watcher
{
    private readonly Channel<WatchFrame> _channel;

    public Watcher(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, int capacity)
    {
        Type = type;
        Namespace = ns;
        Labels = labels;
        Fields = fields;
        _channel = Channel.CreateBounded<WatchFrame>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
    }

    public ResourceType Type { get; }

    public string? Namespace { get; }

    public LabelSelector Labels { get; }

    public FieldSelector Fields { get; }

    public ChannelReader<WatchFrame> Reader => _channel.Reader;

    /// <summary>Set when the watch was dropped by fault injection (connection is aborted, not ended).</summary>
    public bool Dropped { get; private set; }

    public bool Matches(StoredObject obj) =>
        obj.StorageKey == Type.StorageKey
        && (Namespace is null || obj.Namespace == Namespace)
        && Labels.Matches(obj.Node["metadata"]?["labels"] as System.Text.Json.Nodes.JsonObject)
        && Fields.Matches(obj.Node);

    /// <summary>Queues a frame; false when the reader is too slow (the watch is then closed).</summary>
    public bool Offer(WatchFrame frame)
    {
        if (_channel.Writer.TryWrite(frame))
        {
            return true;
        }

        _channel.Writer.TryComplete();
        return false;
    }

    public void Close() => _channel.Writer.TryComplete();

    public void Drop()
    {
        Dropped = true;
        _channel.Writer.TryComplete();
    }
}
