using System.Text.Json.Nodes;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// Turns a run's lifecycle into webhook deliveries: each state change the run's <c>webhook</c> asked
/// for (default: succeeded, failed, cancelled) is queued in the persisted, signed delivery queue
/// with the run as <c>GET /v1/runs/{id}</c> shows it (<paramref name="payload"/>, given by the API).
/// </summary>
internal sealed partial class RunWebhookNotifier(
    WebhookDispatcher dispatcher, IOptions<WebhookOptions> options, Func<RunRecord, JsonNode?> payload, ILogger<RunWebhookNotifier> logger) : IRunEventObserver
{
    public static string? WebhookEventFor(string runEventType) => runEventType switch
    {
        RunEventTypes.Started => WebhookEvents.Started,
        RunEventTypes.Progress => WebhookEvents.Progress,
        RunEventTypes.Succeeded => WebhookEvents.Succeeded,
        RunEventTypes.Failed => WebhookEvents.Failed,
        RunEventTypes.Cancelled => WebhookEvents.Cancelled,
        _ => null,
    };

    /// <summary>How far back a restart looks for finished runs whose webhook may not have been queued.</summary>
    public TimeSpan RecoveryWindow => options.Value.RetryWindow;

    public void OnEvent(RunRecord run, RunEvent runEvent) => Notify(run, runEvent.Type);

    /// <summary>Queues the delivery in the background; the caller's state change is already committed.</summary>
    public void Notify(RunRecord run, string runEventType)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Webhook is not { } hook || WebhookEventFor(runEventType) is not { } type)
        {
            return;
        }

        var wanted = hook.Events.Count > 0 ? hook.Events : options.Value.DefaultEvents;
        if (!wanted.Contains(type, StringComparer.Ordinal))
        {
            return;
        }

        _ = EnqueueAsync(run.Id, type, hook.Url, payload(run));
    }

    private async Task EnqueueAsync(string runId, string type, string url, JsonNode? body)
    {
        try
        {
            await dispatcher.EnqueueAsync(runId, type, url, body, CancellationToken.None);
        }
        catch (Exception ex) when (ex is Inputs.InputRefusedException or Storage.StorageException or IOException or InvalidOperationException)
        {
            LogEnqueueFailed(type, runId, ex);
        }
    }

    [LoggerMessage(EventId = EventIds.RunWebhookNotifierEnqueueFailed, Level = LogLevel.Warning, Message = "Could not queue webhook {Event} for run {RunId}")]
    private partial void LogEnqueueFailed(string @event, string runId, Exception exception);
}
