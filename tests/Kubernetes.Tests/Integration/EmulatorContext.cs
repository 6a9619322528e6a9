using System.Text.Json;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Kubernetes.Tests.Integration;

/// <summary>An emulator plus a client configured from the kubeconfig it writes (so the kubeconfig path is exercised too).</summary>
internal sealed class EmulatorContext : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private EmulatorContext(TempDirectory directory, KubeApiEmulator emulator, KubeApiEmulatorOptions options, KubernetesClient client, KubernetesClientMetrics metrics)
    {
        _directory = directory;
        Emulator = emulator;
        Options = options;
        Client = client;
        Metrics = metrics;
    }

    public KubeApiEmulator Emulator { get; }

    public KubeApiEmulatorOptions Options { get; }

    public KubernetesClient Client { get; }

    public KubernetesClientMetrics Metrics { get; }

    public string Directory => _directory.Path;

    public static async Task<EmulatorContext> StartAsync(KubeApiEmulatorOptions? options = null)
    {
        options ??= new KubeApiEmulatorOptions();
        var emulator = await KubeApiEmulator.StartAsync(options);
        var metrics = new KubernetesClientMetrics();
        var directory = new TempDirectory();
        var kubeconfig = emulator.WriteKubeconfig(Path.Combine(directory.Path, "kubeconfig"), options.RequiredBearerToken);
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        return new EmulatorContext(directory, emulator, options, new KubernetesClient(config, metrics: metrics, random: () => 0.0), metrics);
    }

    /// <summary>A second client on the same emulator, optionally through a handler of the test's choosing.</summary>
    public KubernetesClient NewClient(HttpMessageHandler? handler = null, TimeSpan? requestTimeout = null) =>
        new(
            new KubernetesClientConfiguration
            {
                Host = Emulator.BaseAddress,
                TokenProvider = Options.RequiredBearerToken is null ? null : new StaticTokenProvider(Options.RequiredBearerToken),
                RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30),
            },
            handler: handler,
            random: () => 0.0);

    public async Task CreateNamespaceAsync(string name) =>
        await Client.CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = name } });

    public async Task InstallWidgetCrdAsync()
    {
        var schema = JsonDocument.Parse("""
            {"type":"object","properties":{
              "spec":{"type":"object","properties":{
                "color":{"type":"string","enum":["red","green","blue"]},
                "replicas":{"type":"integer","minimum":0,"maximum":10}}},
              "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}
            """).RootElement.Clone();
        var crd = new CustomResourceDefinition
        {
            Metadata = new ObjectMeta { Name = "widgets.test.comfyoperator.io" },
            Spec = new CustomResourceDefinitionSpec
            {
                Group = "test.comfyoperator.io",
                Scope = "Namespaced",
                Names = new CustomResourceDefinitionNames { Plural = "widgets", Singular = "widget", Kind = "Widget", ListKind = "WidgetList" },
                Versions =
                [
                    new CustomResourceDefinitionVersion
                    {
                        Name = "v1",
                        Served = true,
                        Storage = true,
                        Schema = new CustomResourceValidation { OpenAPIV3Schema = schema },
                        Subresources = new CustomResourceSubresources
                        {
                            Status = JsonDocument.Parse("{}").RootElement.Clone(),
                            Scale = new CustomResourceSubresourceScale { SpecReplicasPath = ".spec.replicas", StatusReplicasPath = ".status.replicas" },
                        },
                    },
                ],
            },
        };
        await Client.CreateAsync(crd);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Emulator.DisposeAsync();
        _directory.Dispose();
    }
}
