using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Webhooks;

/// <summary>Registers the webhook dispatcher (its queue, <see cref="IWebhookStore"/>, is registered with the database).</summary>
internal static class WebhookServiceCollectionExtensions
{
    public static IServiceCollection AddComfyWebhooks(this IServiceCollection services, Func<RunRecord, JsonNode?> payload)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName)
            .Validate(
                webhooks => string.IsNullOrEmpty(webhooks.Secret) || IsSecret(webhooks.Secret),
                "Router:Webhooks:Secret (COMFY_ROUTER__WEBHOOKS__SECRET) must be 'whsec_' followed by base64.")
            .Validate(
                webhooks => webhooks.RetryWindow > TimeSpan.Zero && webhooks.InitialRetryDelay > TimeSpan.Zero && webhooks.MaxRetryDelay >= webhooks.InitialRetryDelay
                    && webhooks.RequestTimeout > TimeSpan.Zero && webhooks.PollInterval > TimeSpan.Zero,
                "Router:Webhooks:RetryWindow, InitialRetryDelay, RequestTimeout and PollInterval (COMFY_ROUTER__WEBHOOKS__...) must be positive durations, and MaxRetryDelay at least InitialRetryDelay.")
            .ValidateOnStart();
        services.AddSingleton(sp => new WebhookDispatcher(
            sp.GetRequiredService<IWebhookStore>(),
            sp.GetRequiredService<SafeHttpDownloader>(),
            sp.GetRequiredService<IOptions<WebhookOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<WebhookDispatcher>>(),
            sp.GetRequiredService<Metrics.RouterMetrics>()));
        services.AddSingleton(sp => new RunWebhookNotifier(
            sp.GetRequiredService<WebhookDispatcher>(), sp.GetRequiredService<IOptions<WebhookOptions>>(), payload, sp.GetRequiredService<ILogger<RunWebhookNotifier>>()));
        services.AddSingleton<IRunEventObserver>(sp => sp.GetRequiredService<RunWebhookNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }

    private static bool IsSecret(string secret)
    {
        try
        {
            return WebhookSigner.ParseSecret(secret).Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
