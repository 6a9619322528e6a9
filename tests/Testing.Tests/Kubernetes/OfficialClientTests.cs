using System.Net;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using OfficialConfiguration = k8s.KubernetesClientConfiguration;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>The official KubernetesClient package against the emulator, configured from the kubeconfig it writes.</summary>
public sealed class OfficialClientTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kube-emulator-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task WriteKubeconfig_NoToken_OfficialClientAcceptsItAndKubectlToo()
    {
        await using var emulator = await KubeApiEmulator.StartAsync();
        var path = emulator.WriteKubeconfig(Path.Combine(_dir, "config"));

        var config = OfficialConfiguration.BuildConfigFromConfigFile(path);
        Assert.Equal("default", config.Namespace);
        using var client = new k8s.Kubernetes(config);
        await client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings" }, Data = new Dictionary<string, string> { ["a"] = "1" } },
            config.Namespace);
        var read = await client.CoreV1.ReadNamespacedConfigMapAsync("settings", config.Namespace);
        Assert.Equal("1", read.Data["a"]);

        using var kubectl = new Kubectl(path);
        var got = await kubectl.RunAsync("get configmap settings -o jsonpath={.data.a}");
        Assert.True(got.Succeeded, got.ToString());
        Assert.Equal("1", got.StdOut.Trim());
    }

    [Fact]
    public async Task WriteKubeconfig_RequiredToken_OfficialClientSendsIt()
    {
        await using var emulator = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { RequiredBearerToken = "t0ken" });
        using var right = new k8s.Kubernetes(OfficialConfiguration.BuildConfigFromConfigFile(emulator.WriteKubeconfig(Path.Combine(_dir, "right"), "t0ken")));
        using var placeholder = new k8s.Kubernetes(OfficialConfiguration.BuildConfigFromConfigFile(emulator.WriteKubeconfig(Path.Combine(_dir, "placeholder"))));

        Assert.NotEmpty((await right.CoreV1.ListNamespaceAsync()).Items);
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => placeholder.CoreV1.ListNamespaceAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Response.StatusCode);
    }
}
