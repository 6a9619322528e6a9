using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ComfyOperator.Router.Api;

/// <summary>Checks a run's webhook at submit: an absolute http(s) URL that passes the SSRF guard, and known event names.</summary>
internal static class WebhookRequest
{
    public static async Task<(RunWebhook? Webhook, ProblemHttpResult? Problem)> CheckAsync(
        string? urlText, IEnumerable<string?> events, string field, SafeHttpDownloader downloader, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            return (null, Problems.Invalid($"'{field}.url' must be an absolute http(s) URL.", field + ".url"));
        }

        var names = new List<string>();
        foreach (var name in events)
        {
            if (name is null || !WebhookEvents.IsKnown(name))
            {
                return (null, Problems.Invalid(
                    $"Unknown webhook event '{name}'; use run.succeeded, run.failed, run.cancelled, run.started or run.progress.", field + ".events"));
            }

            names.Add(name);
        }

        try
        {
            await downloader.CheckUrlAsync(field + ".url", url, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            return (null, Problems.Invalid(refused.Message, field + ".url"));
        }

        return (new RunWebhook(url.ToString(), names), null);
    }
}
