using System.Threading.Channels;

namespace ComfyOperator.Router.Workers;

/// <summary>A subscription to one prompt's events; dispose to stop routing them.</summary>
internal sealed class WorkerWatch(ChannelReader<WorkerEvent> reader, Action stop) : IDisposable
{
    public ChannelReader<WorkerEvent> Events { get; } = reader;

    public void Dispose() => stop();
}
