namespace ComfyOperator.Router.Runs;

/// <summary>Sees every run event as it is published, with the run as it is now (metrics, webhooks); must be quick and must not throw.</summary>
internal interface IRunEventObserver
{
    void OnEvent(RunRecord run, RunEvent runEvent);
}
