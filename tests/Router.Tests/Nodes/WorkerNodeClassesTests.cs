using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Nodes;

/// <summary>Each worker's node classes (its <c>/object_info</c>): eligibility and the fleet's merged document.</summary>
public sealed class WorkerNodeClassesTests
{
    private readonly WorkerRegistry _registry;
    private readonly WorkerNodeClasses _classes;

    public WorkerNodeClassesTests()
    {
        _registry = new WorkerRegistry(
            new FixedSource([new NodeEndpoint(new Uri("http://a:8188/"), "test"), new NodeEndpoint(new Uri("http://b:8188/"), "test")]),
            NullLogger<WorkerRegistry>.Instance);
        var router = Options.Create(new RouterOptions());
        var prober = new HealthProber(_registry, new NoHttp(), router, TimeProvider.System, NullLogger<HealthProber>.Instance);
        _classes = new WorkerNodeClasses(_registry, prober, new NoHttp(), router, Options.Create(new WorkflowRoutingOptions()), TimeProvider.System, NullLogger<WorkerNodeClasses>.Instance);
        foreach (var worker in _registry.Workers)
        {
            worker.ReportProbeSuccess(DateTimeOffset.UnixEpoch, "test", []);
        }
    }

    private WorkerState Worker(string host) => _registry.Workers.Single(w => w.BaseAddress.Host == host);

    private static byte[] ObjectInfo(params (string Class, string[] Checkpoints)[] classes)
    {
        var document = new JsonObject();
        foreach (var (name, checkpoints) in classes)
        {
            document[name] = new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["required"] = new JsonObject { ["ckpt_name"] = new JsonArray(new JsonArray([.. checkpoints.Select(c => (JsonNode)c)]), new JsonObject()) },
                },
            };
        }

        return Encoding.UTF8.GetBytes(document.ToJsonString());
    }

    [Fact]
    public void Has_NoWorkerRead_HoldsNothingBack()
    {
        Assert.True(_classes.Has(Worker("a"), ["AnyCustomNode"]));
        Assert.Empty(_classes.MissingEverywhere(["AnyCustomNode"]));
    }

    [Fact]
    public void Has_ClassOnOneWorkerOnly_OnlyThatWorkerAndUnreadWorkersWait()
    {
        _classes.Record(new Uri("http://a:8188/"), ObjectInfo(("CheckpointLoaderSimple", ["a.safetensors"]), ("CustomNode", [])));

        Assert.True(_classes.Has(Worker("a"), ["CheckpointLoaderSimple", "CustomNode"]));
        Assert.False(_classes.Has(Worker("b"), ["CheckpointLoaderSimple"]));
        Assert.Empty(_classes.MissingEverywhere(["Unheard"]));

        _classes.Record(new Uri("http://b:8188/"), ObjectInfo(("CheckpointLoaderSimple", ["b.safetensors"])));

        Assert.True(_classes.Has(Worker("b"), ["CheckpointLoaderSimple"]));
        Assert.False(_classes.Has(Worker("b"), ["CheckpointLoaderSimple", "CustomNode"]));
        Assert.Equal(["Unheard"], _classes.MissingEverywhere(["CustomNode", "Unheard"]));
    }

    [Fact]
    public void Merged_TwoWorkers_UnionOfClassesAndComboChoices()
    {
        _classes.Record(new Uri("http://a:8188/"), ObjectInfo(("CheckpointLoaderSimple", ["a.safetensors", "shared.safetensors"]), ("CustomNode", [])));
        _classes.Record(new Uri("http://b:8188/"), ObjectInfo(("CheckpointLoaderSimple", ["shared.safetensors", "b.safetensors"])));

        var merged = JsonNode.Parse(_classes.Merged().Json)!;

        Assert.NotNull(merged["CustomNode"]);
        var choices = merged["CheckpointLoaderSimple"]!["input"]!["required"]!["ckpt_name"]![0]!.AsArray().Select(c => c!.GetValue<string>());
        Assert.Equal(["a.safetensors", "shared.safetensors", "b.safetensors"], choices);
        Assert.True(_classes.Merged().Classes.ContainsKey("CustomNode"));
    }

    [Fact]
    public async Task RefreshAsync_DocumentChangesAndComesBack_ClassesFollowEachRead()
    {
        var http = new ObjectInfoHttp { Body = ObjectInfo(("KSampler", [])) };
        var router = Options.Create(new RouterOptions());
        var prober = new HealthProber(_registry, http, router, TimeProvider.System, NullLogger<HealthProber>.Instance);
        using var classes = new WorkerNodeClasses(_registry, prober, http, router, Options.Create(new WorkflowRoutingOptions()), TimeProvider.System, NullLogger<WorkerNodeClasses>.Instance);

        await classes.RefreshAsync(Worker("a"), CancellationToken.None);
        await classes.RefreshAsync(Worker("a"), CancellationToken.None);
        Assert.True(classes.Has(Worker("a"), ["KSampler"]));

        // Custom nodes installed: a document no worker sent before is read whole (after its hash said it is new).
        http.Body = ObjectInfo(("KSampler", []), ("CustomNode", []));
        await classes.RefreshAsync(Worker("a"), CancellationToken.None);
        Assert.True(classes.Has(Worker("a"), ["KSampler", "CustomNode"]));
        Assert.False(classes.Has(Worker("b"), ["CustomNode"]));

        // Taken out again: the document another read already parsed is the worker's again.
        http.Body = ObjectInfo(("KSampler", []));
        await classes.RefreshAsync(Worker("a"), CancellationToken.None);
        Assert.False(classes.Has(Worker("a"), ["CustomNode"]));
        Assert.True(classes.Has(Worker("a"), ["KSampler"]));
        // One request per read of a document seen before, two for a new one (its hash, then the whole of it).
        Assert.Equal(5, http.Requests);
    }

    private sealed class ObjectInfoHttp : HttpMessageHandler, IHttpClientFactory
    {
        private int _requests;

        public byte[] Body { get; set; } = [];

        public int Requests => Volatile.Read(ref _requests);

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/object_info", request.RequestUri!.AbsolutePath);

            // Read again only minutes later: no connection left in the pool.
            Assert.True(request.Headers.ConnectionClose);
            Interlocked.Increment(ref _requests);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(Body) });
        }
    }

    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new HttpRequestException("no HTTP here");
    }
}
