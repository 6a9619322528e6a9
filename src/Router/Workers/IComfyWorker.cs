using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// The router's view of one ComfyUI worker: one WebSocket (our client id) routed by prompt_id, plus
/// the HTTP calls dispatch needs. A small adapter so the transport can be swapped for the shared
/// ComfyUI client library without touching the dispatcher.
/// </summary>
internal interface IComfyWorker : IAsyncDisposable
{
    Uri BaseAddress { get; }

    bool IsConnected { get; }

    /// <summary>When the socket was lost (null while connected or never connected).</summary>
    DateTimeOffset? DisconnectedSince { get; }

    /// <summary>Raised when the socket (re)connects.</summary>
    event EventHandler? Connected;

    void Start();

    /// <summary>Events of one prompt; subscribe before posting it.</summary>
    WorkerWatch Watch(string promptId);

    /// <summary>POST /prompt with our client id and <paramref name="promptId"/>; throws <see cref="WorkerRejectedException"/> on 400.</summary>
    Task PostPromptAsync(JsonObject prompt, string promptId, CancellationToken cancellationToken);

    /// <summary>The history entry, or null while the prompt is pending/running or unknown.</summary>
    Task<WorkerHistory?> GetHistoryAsync(string promptId, CancellationToken cancellationToken);

    Task<WorkerQueue> GetQueueAsync(CancellationToken cancellationToken);

    Task DeleteQueuedAsync(string promptId, CancellationToken cancellationToken);

    Task InterruptAsync(string promptId, CancellationToken cancellationToken);

    /// <summary>GET /view for one file; the caller disposes the stream.</summary>
    Task<Stream> OpenFileAsync(WorkerFile file, CancellationToken cancellationToken);
}
