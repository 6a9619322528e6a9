using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Workflows;
using k8s;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Hosting;

/// <summary>
/// Workflows as APIs: the catalog (presets, a directory, the cluster) and the node source (the
/// fixed nodes, joined by the cluster's when the Kubernetes source is on).
/// </summary>
internal static class WorkflowServiceCollectionExtensions
{
    public static IServiceCollection AddComfyWorkflows(this IServiceCollection services)
    {
        services.AddOptions<WorkflowRoutingOptions>()
            .BindConfiguration(RouterOptions.SectionName)
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

        // The workers added through the API join the static ones; the kubernetes source, when on, joins both.
        services.AddSingleton(CreateKubernetesNodes);
        services.AddSingleton<INodeSource>(sp =>
        {
            var fixedNodes = sp.GetRequiredService<StaticNodeSource>();
            var apiNodes = sp.GetRequiredService<ApiNodeSource>();
            return sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>().Value.Kubernetes.Enabled
                ? new CombinedNodeSource(fixedNodes, apiNodes, sp.GetRequiredService<KubernetesNodeSource>())
                : new CombinedNodeSource(fixedNodes, apiNodes);
        });

        services.Configure<OpenApiOptions>("v1", options => options.AddDocumentTransformer<WorkflowsDocumentTransformer>());
        return services;
    }

    /// <summary>
    /// The cluster's node source, built with its Kubernetes client when first asked for (the source is
    /// on), so a router without it never loads the Kubernetes client's assembly.
    /// </summary>
    private static KubernetesNodeSource CreateKubernetesNodes(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>();
        var kubernetes = options.Value.Kubernetes;
        var configuration = !string.IsNullOrWhiteSpace(kubernetes.Kubeconfig)
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubernetes.Kubeconfig)
            : KubernetesClientConfiguration.BuildDefaultConfig();
        return new KubernetesNodeSource(
            new k8s.Kubernetes(configuration),
            sp.GetRequiredService<WorkflowCatalog>(),
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>());
    }
}
