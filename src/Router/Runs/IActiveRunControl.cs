namespace ComfyOperator.Router.Runs;

/// <summary>Implemented by the dispatcher: tells a run that is on a worker to stop.</summary>
internal interface IActiveRunControl
{
    void RequestCancel(string runId);
}
