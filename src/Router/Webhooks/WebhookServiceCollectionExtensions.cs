using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Webhooks;

/// <summary>Registers the webhook queue (table in the router's SQLite file) and its dispatcher.</summary>
internal static class WebhookServiceCollectionExtensions
{
    public static IServiceCollection AddComfyWebhooks(this IServiceCollection services)
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
        services.AddSingleton(sp => new SqliteWebhookStore(sp.GetRequiredService<IOptions<RouterOptions>>().Value.ResolvedDatabasePath));
        services.AddSingleton(sp => new WebhookDispatcher(
            sp.GetRequiredService<SqliteWebhookStore>(),
            sp.GetRequiredService<SafeHttpDownloader>(),
            sp.GetRequiredService<IOptions<WebhookOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<WebhookDispatcher>>(),
            sp.GetRequiredService<Metrics.RouterMetrics>()));
        services.AddSingleton<RunWebhookNotifier>();
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
