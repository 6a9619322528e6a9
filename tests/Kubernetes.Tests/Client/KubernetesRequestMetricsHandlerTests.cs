using System.Collections.Concurrent;
using System.Net;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using OfficialConfiguration = k8s.KubernetesClientConfiguration;

namespace ComfyOperator.Kubernetes.Tests.Client;

public sealed class KubernetesRequestMetricsHandlerTests
{
    [Theory]
    [InlineData("GET", "http://h/api/v1/namespaces", "list")]
    [InlineData("GET", "http://h/api/v1/namespaces/team-a", "get")]
    [InlineData("GET", "http://h/api/v1/namespaces/team-a/pods", "list")]
    [InlineData("GET", "http://h/api/v1/namespaces/team-a/pods/p-1", "get")]
    [InlineData("GET", "http://h/api/v1/pods?labelSelector=a%3Db", "list")]
    [InlineData("GET", "http://h/apis/comfyoperator.io/v1alpha1/namespaces/team-a/comfynodes?watch=true&resourceVersion=5", "watch")]
    [InlineData("GET", "http://h/apis/comfyoperator.io/v1alpha1/namespaces/team-a/comfynodes/gpu-1/status", "get")]
    [InlineData("GET", "http://h/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "list")]
    [InlineData("PUT", "http://h/apis/coordination.k8s.io/v1/namespaces/ops/leases/comfy-operator", "update")]
    [InlineData("PATCH", "http://h/apis/comfyoperator.io/v1alpha1/namespaces/team-a/comfynodes/gpu-1/status", "patch")]
    [InlineData("POST", "http://h/api/v1/namespaces/team-a/events", "create")]
    [InlineData("DELETE", "http://h/api/v1/namespaces/team-a/pods/p-1", "delete")]
    public void VerbOf_Request_KubernetesVerb(string method, string url, string verb) =>
        Assert.Equal(verb, KubernetesRequestMetricsHandler.VerbOf(new HttpMethod(method), new Uri(url)));

    [Fact]
    public async Task OfficialClient_RequestsAgainstTheEmulator_RecordedByVerbAndCode()
    {
        await using var emulator = await KubeApiEmulator.StartAsync();
        using var directory = new TempDirectory();
        var metrics = new KubernetesClientMetrics();
        var seen = new ConcurrentQueue<(string Verb, string Code)>();
        metrics.RequestCompleted += (_, e) => seen.Enqueue((e.Verb, e.Code));
        var config = OfficialConfiguration.BuildConfigFromConfigFile(emulator.WriteKubeconfig(Path.Combine(directory.Path, "kubeconfig")));
        using var client = new k8s.Kubernetes(config, new KubernetesRequestMetricsHandler(metrics));

        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "metrics" } });
        await client.CoreV1.ListNamespaceAsync();
        await client.CoreV1.ReadNamespaceAsync("metrics");
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespaceAsync("missing"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        await client.CoreV1.PatchNamespaceAsync(new V1Patch("""{"metadata":{"labels":{"a":"b"}}}""", V1Patch.PatchType.MergePatch), "metrics");
        await foreach (var (type, ns) in client.CoreV1.WatchListNamespaceAsync(timeoutSeconds: 1))
        {
            Assert.Equal(WatchEventType.Added, type);
            Assert.NotNull(ns.Metadata.Name);
        }

        await client.CoreV1.DeleteNamespaceAsync("metrics");

        Assert.Equal(
            [("create", "201"), ("list", "200"), ("get", "200"), ("get", "404"), ("patch", "200"), ("watch", "200"), ("delete", "200")],
            seen.ToArray());
    }

    [Fact]
    public async Task OfficialClient_NoServer_RecordedAsError()
    {
        var metrics = new KubernetesClientMetrics();
        var seen = new ConcurrentQueue<(string Verb, string Code)>();
        metrics.RequestCompleted += (_, e) => seen.Enqueue((e.Verb, e.Code));
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new k8s.Kubernetes(new OfficialConfiguration { Host = $"http://127.0.0.1:{port}" }, new KubernetesRequestMetricsHandler(metrics));

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.CoreV1.ListNamespacedPodAsync("default"));

        Assert.Equal([("list", "error")], seen.ToArray());
    }
}
