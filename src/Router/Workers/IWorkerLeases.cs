namespace ComfyOperator.Router.Workers;

/// <summary>
/// Which workers this router drives: only the holder of a worker's lease posts prompts to it, interrupts
/// them and follows its runs. One router holds them all; active/active replicas share them through the
/// database (<see cref="Storage.Postgres.PostgresWorkerLeases"/>).
/// </summary>
internal interface IWorkerLeases
{
    /// <summary>Raised when this router takes a worker's lease (at start, or from a replica that stopped renewing it): the runs on it are now this router's to follow.</summary>
    event EventHandler<Uri>? Acquired;

    /// <summary>True while this router holds <paramref name="worker"/>'s lease and may drive it.</summary>
    bool Holds(Uri worker);
}
