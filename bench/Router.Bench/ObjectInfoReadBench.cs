using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Workflows;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 14 §8, the periodic re-read of a worker's <c>/object_info</c> (every worker's, every
/// <c>ModelRefreshInterval</c>): bytes allocated and CPU per read of a document the router already has, as
/// <see cref="WorkerNodeClasses.RefreshAsync"/> reads it (hashed as it streams in) and as it read it before (whole,
/// then hashed), both on connections closed once answered as the router's periodic reads are, served by a Kestrel
/// server on 127.0.0.1 in this process (its share, accepting each connection, counted in both). For the
/// simulator's document and for one of ComfyUI's size with custom nodes. Prints figures; asserts nothing about time.
/// </summary>
internal static class ObjectInfoReadBench
{
    public static async Task RunAsync(int reads, CancellationToken cancellationToken)
    {
        var simulator = await SimulatorObjectInfoAsync();
        Console.WriteLine($"/object_info re-read of a document the router has, {reads} reads each way after 50 to warm up; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine("  document                      read                       KB allocated/read   CPU µs/read");
        foreach (var (name, body) in new[] { ("simulator", simulator), ("with custom nodes", WithCustomNodes(simulator, 3 * 1024 * 1024)) })
        {
            var (app, address) = await LoopbackServer.StartAsync(app => app.MapGet("/object_info", () => TypedResults.Bytes(body, "application/json")), cancellationToken);
            await using var server = app;
            var registry = new WorkerRegistry(new FixedNodes(address), NullLogger<WorkerRegistry>.Instance);
            var worker = registry.Workers.Single();
            using var handler = new SocketsHttpHandler();
            var http = new SharedHandler(handler);
            var router = Options.Create(new RouterOptions());
            var prober = new HealthProber(registry, http, router, TimeProvider.System, NullLogger<HealthProber>.Instance);
            using var classes = new WorkerNodeClasses(registry, prober, http, router, Options.Create(new WorkflowRoutingOptions()), TimeProvider.System, NullLogger<WorkerNodeClasses>.Instance);
            classes.Record(worker.BaseAddress, body);

            var label = $"{name} ({body.Length / 1024.0:F0} KB)";
            await MeasureAsync(label, "hashed as it streams in", reads, () => classes.RefreshAsync(worker, cancellationToken));
            // On the same kind of connection as the router's read (closed once answered), so only the reading differs.
            using var client = WorkerReads.Client(http);
            await MeasureAsync(label, "whole, then hashed", reads, async () => classes.Record(worker.BaseAddress, await client.GetByteArrayAsync(new Uri(address, "object_info"), cancellationToken)));
        }
    }

    private static async Task MeasureAsync(string document, string read, int reads, Func<Task> once)
    {
        for (var i = 0; i < 50; i++)
        {
            await once();
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Environment.CpuUsage.TotalTime;
        for (var i = 0; i < reads; i++)
        {
            await once();
        }

        var perRead = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0 / reads;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {document,-29} {read,-26} {perRead,17:F1} {(Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / reads,13:F0}"));
    }

    /// <summary>The simulator's <c>/object_info</c>, as it serves it.</summary>
    private static async Task<byte[]> SimulatorObjectInfoAsync()
    {
        await using var simulator = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions());
        using var client = new HttpClient();
        return await client.GetByteArrayAsync(new Uri(simulator.BaseAddress, "object_info"));
    }

    /// <summary>The document with copies of its classes under other names until it is about <paramref name="size"/> bytes.</summary>
    private static byte[] WithCustomNodes(byte[] document, int size)
    {
        var classes = (JsonObject)JsonNode.Parse(document)!;
        var originals = classes.Select(p => (p.Key, p.Value)).ToList();
        for (var copy = 0; Encoding.UTF8.GetByteCount(classes.ToJsonString()) < size; copy++)
        {
            foreach (var (name, info) in originals)
            {
                classes[$"{name}_custom{copy}"] = info?.DeepClone();
            }
        }

        return Encoding.UTF8.GetBytes(classes.ToJsonString());
    }

    private sealed class FixedNodes(Uri address) : INodeSource
    {
        public IReadOnlyList<NodeEndpoint> Current { get; } = [new NodeEndpoint(address, "bench")];

        public event EventHandler? Changed { add { } remove { } }
    }

    private sealed class SharedHandler(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }
}
