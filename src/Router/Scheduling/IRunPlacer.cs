namespace ComfyOperator.Router.Scheduling;

/// <summary>What the <see cref="DispatchQueue"/> asks to place runs onto workers (the <see cref="RunScheduler"/>).</summary>
internal interface IRunPlacer
{
    /// <summary>Raised when placement may now succeed where it did not (models appeared, workflows changed).</summary>
    event EventHandler? Changed;

    /// <summary>Raised when workflows changed, so queued runs' requirements must be worked out again.</summary>
    event EventHandler? RequirementsChanged;

    /// <summary>The run's labels, models and policy; called once when the run enters the queue.</summary>
    RunRequirements Resolve(QueuedRun run);

    /// <summary>The run's requirements again after workflows changed; the models (from its graph) do not change.</summary>
    RunRequirements Refresh(QueuedRun run, RunRequirements previous) => Resolve(run);

    /// <summary>A snapshot of the eligible workers for one decision; its lists are reused by the next round, so one round is used at a time.</summary>
    PlacementRound BeginRound();

    /// <summary>Fair-share weight of an owner (1 = normal).</summary>
    int WeightOf(string owner);
}
