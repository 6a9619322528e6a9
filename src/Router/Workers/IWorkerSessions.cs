using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Workers;

/// <summary>The worker sessions an attempt uses: the worker's own session and, after a restart, an extra one under an earlier client id.</summary>
internal interface IWorkerSessions
{
    ComfySession? Get(WorkerState worker);

    bool IsConnected(WorkerState worker);

    /// <summary>A session listening under <paramref name="clientId"/> (the id a prompt was posted under) while the lease is held.</summary>
    FollowerLease Follow(WorkerState worker, string clientId);
}
