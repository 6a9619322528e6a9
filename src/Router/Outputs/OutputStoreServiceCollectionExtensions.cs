using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Outputs;

/// <summary>Chooses the output store from <c>Router:Outputs:Kind</c> (<c>local</c> or <c>s3</c>).</summary>
internal static class OutputStoreServiceCollectionExtensions
{
    public static IServiceCollection AddComfyOutputStore(this IServiceCollection services)
    {
        services.AddOptions<OutputStoreOptions>().BindConfiguration(OutputStoreOptions.SectionName);
        services.AddSingleton(sp => new S3OutputStore(
            sp.GetRequiredService<IOptions<OutputStoreOptions>>().Value.S3,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<S3OutputStore>>(),
            sp.GetRequiredService<Metrics.RouterMetrics>()));
        services.RemoveAll<IOutputStore>();
        services.AddSingleton<IOutputStore>(sp =>
        {
            var kind = sp.GetRequiredService<IOptions<OutputStoreOptions>>().Value.Kind;
            return kind.Trim().ToUpperInvariant() switch
            {
                "S3" => sp.GetRequiredService<S3OutputStore>(),
                "LOCAL" or "" => new LocalDirectoryOutputStore(sp.GetRequiredService<IOptions<RouterOptions>>()),
                _ => throw new InvalidOperationException($"Router:Outputs:Kind '{kind}' is not 'local' or 's3'."),
            };
        });
        return services;
    }
}
