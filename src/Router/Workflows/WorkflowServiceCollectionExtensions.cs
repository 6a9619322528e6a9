using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Workers;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Workflows as APIs and model-aware scheduling: the catalog (presets, a directory, the cluster),
/// the Kubernetes node source, model inventory, and the scheduler behind the dispatch queue.
/// Registered after the router core so its queue and placement policy replace the plain ones.
/// </summary>
internal static class WorkflowServiceCollectionExtensions
{
    public static IServiceCollection AddComfyWorkflows(this IServiceCollection services)
    {
        services.AddOptions<WorkflowRoutingOptions>()
            .BindConfiguration(Configuration.RouterOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkflowRoutingOptions>, WorkflowRoutingOptionsValidator>();

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>().Value;
            var catalog = new WorkflowCatalog();
            if (!options.Presets)
            {
                catalog.Replace(WorkflowSourceNames.Preset, []);
            }

            return catalog;
        });
        services.AddSingleton<WorkflowDirectorySource>();

        // The kubernetes source, when on, joins the static one.
        services.AddSingleton<IKubernetesClient>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>().Value.Kubernetes;
            var configuration = !string.IsNullOrWhiteSpace(options.Kubeconfig)
                ? KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig)
                : KubernetesClientConfiguration.BuildDefaultConfig();
            return new KubernetesClient(configuration, sp.GetRequiredService<ILogger<KubernetesClient>>());
        });
        services.AddSingleton<KubernetesNodeSource>();
        services.AddSingleton<INodeSource>(sp =>
        {
            var fixedNodes = sp.GetRequiredService<StaticNodeSource>();
            return sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>().Value.Kubernetes.Enabled
                ? new CombinedNodeSource(fixedNodes, sp.GetRequiredService<KubernetesNodeSource>())
                : fixedNodes;
        });

        services.AddSingleton<WorkerModelInventory>();
        services.AddSingleton(sp => new RunScheduler(
            sp.GetRequiredService<WorkerRegistry>(),
            sp.GetRequiredService<INodeSource>(),
            sp.GetRequiredService<WorkerModelInventory>(),
            sp.GetRequiredService<WorkflowCatalog>(),
            sp.GetRequiredService<IOptions<Configuration.RouterOptions>>(),
            sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            worker => sp.GetRequiredService<WorkerConnections>().IsConnected(worker)));
        services.AddSingleton(sp => new DispatchQueue(sp.GetRequiredService<RunScheduler>()));
        services.AddSingleton<IPlacementPolicy>(sp => new ScheduledPlacementPolicy(sp.GetRequiredService<DispatchQueue>(), sp.GetRequiredService<RunScheduler>()));

        services.AddHostedService<WorkflowStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerModelInventory>());
        services.Configure<OpenApiOptions>("v1", options => options.AddDocumentTransformer<WorkflowsDocumentTransformer>());
        return services;
    }
}
