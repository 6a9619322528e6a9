using System.Collections.Concurrent;
using System.Net;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Nodes;

/// <summary>Each worker's model lists, read from its <c>/models/{folder}</c>.</summary>
public sealed class WorkerModelInventoryTests
{
    [Fact]
    public async Task RefreshAsync_EveryFolderOnOneConnectionThatTheLastRequestCloses()
    {
        var registry = new WorkerRegistry(new FixedSource([new NodeEndpoint(new Uri("http://gpu-0:8188/"), "test")]), NullLogger<WorkerRegistry>.Instance);
        var worker = registry.Workers.Single();
        var http = new ModelsHttp();
        var router = Options.Create(new RouterOptions());
        var prober = new HealthProber(registry, http, router, TimeProvider.System, NullLogger<HealthProber>.Instance);
        using var inventory = new WorkerModelInventory(registry, prober, http, router, Options.Create(new WorkflowRoutingOptions()), TimeProvider.System, NullLogger<WorkerModelInventory>.Instance);

        await inventory.RefreshAsync(worker, CancellationToken.None);

        Assert.True(inventory.Has(worker, [new ModelRequirement("checkpoints", "sd15.safetensors"), new ModelRequirement("loras", "detail.safetensors")]));
        Assert.False(inventory.Has(worker, [new ModelRequirement("vae", "missing.safetensors")]));

        // Keep-alive while the folders are read one after another; then the worker is read again only minutes later.
        var requests = http.Requests.ToList();
        Assert.Equal(5, requests.Count);
        Assert.Equal([false, false, false, false, true], requests.Select(r => r.Close));
    }

    private sealed class ModelsHttp : HttpMessageHandler, IHttpClientFactory
    {
        public ConcurrentQueue<(string Path, bool Close)> Requests { get; } = new();

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            Requests.Enqueue((path, request.Headers.ConnectionClose == true));
            var body = path switch
            {
                "/models/checkpoints" => """["sd15.safetensors"]""",
                "/models/loras" => """["detail.safetensors"]""",
                _ => "[]",
            };
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body) });
        }
    }
}
