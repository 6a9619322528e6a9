using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Outputs;

/// <summary>Chooses the output store from <c>Router:Outputs:Kind</c> (<c>local</c> or <c>s3</c>), checked at start.</summary>
internal static class OutputStoreServiceCollectionExtensions
{
    public static IServiceCollection AddComfyOutputStore(this IServiceCollection services)
    {
        services.AddOptions<OutputStoreOptions>().BindConfiguration(OutputStoreOptions.SectionName)
            .Validate(
                outputs => outputs.IsLocal || outputs.IsS3,
                $"{OutputStoreOptions.SectionName}:Kind (COMFY_ROUTER__OUTPUTS__KIND) must be 'local' or 's3'.")
            .Validate(
                outputs => !outputs.IsS3 || !string.IsNullOrWhiteSpace(outputs.S3.Bucket),
                $"{OutputStoreOptions.SectionName}:S3:Bucket (COMFY_ROUTER__OUTPUTS__S3__BUCKET) is required when Router:Outputs:Kind is 's3'.")
            .ValidateOnStart();
        services.AddSingleton(sp => new S3OutputStore(
            sp.GetRequiredService<IOptions<OutputStoreOptions>>().Value.S3,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<S3OutputStore>>(),
            sp.GetRequiredService<Metrics.RouterMetrics>()));
        services.AddSingleton<IOutputStore>(sp => sp.GetRequiredService<IOptions<OutputStoreOptions>>().Value.IsS3
            ? sp.GetRequiredService<S3OutputStore>()
            : new LocalDirectoryOutputStore(sp.GetRequiredService<IOptions<RouterOptions>>()));
        return services;
    }
}
