using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Inputs;

/// <summary>Registers the input cache and the SSRF-guarded downloader (options from <c>Router:Inputs</c>).</summary>
internal static class InputServiceCollectionExtensions
{
    public static IServiceCollection AddComfyInputs(this IServiceCollection services)
    {
        services.AddOptions<InputCacheOptions>().BindConfiguration(InputCacheOptions.SectionName)
            .PostConfigure<IOptions<Configuration.RouterOptions>>((inputs, router) =>
            {
                if (string.IsNullOrWhiteSpace(inputs.CacheDirectory))
                {
                    inputs.CacheDirectory = Path.Combine(router.Value.DataDirectory, "cache");
                }
            })
            .Validate(
                inputs => inputs.Visibility.ToUpperInvariant() is "UPLOAD" or "LINK",
                "Router:Inputs:Visibility (COMFY_ROUTER__INPUTS__VISIBILITY) must be 'upload' or 'link'.")
            .Validate(
                inputs => !inputs.LinksIntoWorkers || (!string.IsNullOrWhiteSpace(inputs.WorkerInputDirectory) && !string.IsNullOrWhiteSpace(inputs.WorkerModelsDirectory)),
                "Router:Inputs:Visibility=link needs Router:Inputs:WorkerInputDirectory and Router:Inputs:WorkerModelsDirectory (ComfyUI's input and models folders as the router sees them).")
            .ValidateOnStart();
        services.AddSingleton(sp => new SafeHttpDownloader(sp.GetRequiredService<IOptions<InputCacheOptions>>().Value));
        services.AddSingleton(sp => new InputCache(
            sp.GetRequiredService<IOptions<InputCacheOptions>>().Value,
            sp.GetRequiredService<SafeHttpDownloader>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<InputCache>>()));
        services.AddSingleton<IRunInputResolver>(sp => new RunInputResolver(
            sp.GetRequiredService<InputCache>(),
            sp.GetRequiredService<SafeHttpDownloader>(),
            sp.GetRequiredService<IOptions<InputCacheOptions>>().Value,
            sp.GetRequiredService<Metrics.RouterMetrics>(),
            sp.GetRequiredService<ILogger<RunInputResolver>>()));
        return services;
    }
}
