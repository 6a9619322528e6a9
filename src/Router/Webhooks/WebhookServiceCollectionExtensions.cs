using ComfyOperator.Router.Inputs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Webhooks;

/// <summary>Registers the webhook dispatcher (its queue, <see cref="IWebhookStore"/>, is registered with the database).</summary>
internal static class WebhookServiceCollectionExtensions
{
    public static IServiceCollection AddComfyWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName);
        services.AddSingleton(sp => new WebhookDispatcher(
            sp.GetRequiredService<IWebhookStore>(),
            sp.GetRequiredService<SafeHttpDownloader>(),
            sp.GetRequiredService<IOptions<WebhookOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<WebhookDispatcher>>(),
            sp.GetRequiredService<Metrics.RouterMetrics>()));
        services.AddSingleton<RunWebhookNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }
}
