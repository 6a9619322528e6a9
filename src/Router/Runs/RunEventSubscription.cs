using System.Threading.Channels;

namespace ComfyOperator.Router.Runs;

/// <summary>One subscriber's view of a run's live events; dispose to unsubscribe.</summary>
internal sealed class RunEventSubscription(ChannelReader<RunEvent> reader, Action unsubscribe) : IDisposable
{
    public ChannelReader<RunEvent> Reader { get; } = reader;

    public void Dispose() => unsubscribe();
}
