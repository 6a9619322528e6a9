using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// A webhook is queued right after its run's state change commits, so a crash in between would
/// lose it. At start every run that finished within the webhook retry window is offered to the
/// notifier again; the delivery queue keeps one delivery per run, event and URL, so only the
/// missing ones are added. Registered after the run store is opened.
/// </summary>
internal sealed class WebhookRecovery(IRunStore store, RunWebhookNotifier webhooks, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var since = time.GetUtcNow() - webhooks.RecoveryWindow;
        try
        {
            foreach (var (status, type) in new[] { (RunStatus.Succeeded, RunEventTypes.Succeeded), (RunStatus.Failed, RunEventTypes.Failed), (RunStatus.Cancelled, RunEventTypes.Cancelled) })
            {
                long? before = null;
                do
                {
                    var page = await store.ListAsync(new RunQuery(status), 500, before, stoppingToken);
                    foreach (var run in page.Runs.Where(r => r.Webhook is not null && r.FinishedAt >= since))
                    {
                        webhooks.Notify(run, type);
                    }

                    before = page.NextBefore;
                }
                while (before is not null);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; the next start looks again.
        }
    }
}
