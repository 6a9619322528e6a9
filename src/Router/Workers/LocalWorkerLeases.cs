namespace ComfyOperator.Router.Workers;

/// <summary>One router on its database (SQLite, or the active one of active/standby replicas): every worker is its own.</summary>
internal sealed class LocalWorkerLeases : IWorkerLeases
{
    public event EventHandler<Uri>? Acquired
    {
        add { }
        remove { }
    }

    public bool Holds(Uri worker) => true;
}
