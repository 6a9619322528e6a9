using System.Text.Json;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

/// <summary>An emulator plus the official client configured from the kubeconfig it writes (so the kubeconfig path is exercised too).</summary>
internal sealed class EmulatorContext : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private EmulatorContext(TempDirectory directory, KubeApiEmulator emulator, KubeApiEmulatorOptions options, k8s.Kubernetes client)
    {
        _directory = directory;
        Emulator = emulator;
        Options = options;
        Client = client;
    }

    public KubeApiEmulator Emulator { get; }

    public KubeApiEmulatorOptions Options { get; }

    public k8s.Kubernetes Client { get; }

    public static async Task<EmulatorContext> StartAsync(KubeApiEmulatorOptions? options = null)
    {
        options ??= new KubeApiEmulatorOptions();
        var emulator = await KubeApiEmulator.StartAsync(options);
        var directory = new TempDirectory();
        var kubeconfig = emulator.WriteKubeconfig(Path.Combine(directory.Path, "kubeconfig"), options.RequiredBearerToken);
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        return new EmulatorContext(directory, emulator, options, new k8s.Kubernetes(config));
    }

    /// <summary>A second client on the same emulator, optionally through a handler of the test's choosing.</summary>
    public k8s.Kubernetes NewClient(DelegatingHandler? handler = null, TimeSpan? timeout = null)
    {
        var config = new KubernetesClientConfiguration
        {
            Host = Emulator.BaseAddress.ToString(),
            AccessToken = Options.RequiredBearerToken,
            HttpClientTimeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        return handler is null ? new k8s.Kubernetes(config) : new k8s.Kubernetes(config, handler);
    }

    public async Task CreateNamespaceAsync(string name) =>
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });

    public async Task InstallWidgetCrdAsync()
    {
        var schema = KubernetesJson.Deserialize<V1JSONSchemaProps>("""
            {"type":"object","properties":{
              "spec":{"type":"object","properties":{
                "color":{"type":"string","enum":["red","green","blue"]},
                "replicas":{"type":"integer","minimum":0,"maximum":10}}},
              "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}
            """);
        var crd = new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = "widgets.test.comfyoperator.io" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "test.comfyoperator.io",
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Plural = "widgets", Singular = "widget", Kind = "Widget", ListKind = "WidgetList" },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = "v1",
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = schema },
                        Subresources = new V1CustomResourceSubresources
                        {
                            Status = JsonDocument.Parse("{}").RootElement.Clone(),
                            Scale = new V1CustomResourceSubresourceScale { SpecReplicasPath = ".spec.replicas", StatusReplicasPath = ".status.replicas" },
                        },
                    },
                ],
            },
        };
        await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Emulator.DisposeAsync();
        _directory.Dispose();
    }
}
