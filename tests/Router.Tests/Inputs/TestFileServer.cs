using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Tests.Inputs;

/// <summary>A real Kestrel server on 127.0.0.1 serving test files, redirects and a gate to hold responses.</summary>
internal sealed class TestFileServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestFileServer(WebApplication app)
    {
        _app = app;
    }

    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    public ConcurrentDictionary<string, int> Hits { get; } = new();

    public TaskCompletionSource Gate { get; private set; } = CompletedGate();

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<TestFileServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TestFileServer(app);
        app.MapGet("/files/{name}", async (string name, HttpContext context) =>
        {
            server.Hits.AddOrUpdate(name, 1, (_, n) => n + 1);
            await server.Gate.Task.WaitAsync(context.RequestAborted);
            if (!server.Files.TryGetValue(name, out var bytes))
            {
                return Results.NotFound();
            }

            var type = name.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : name.EndsWith(".html", StringComparison.Ordinal) ? "text/html" : "application/octet-stream";
            return Results.Bytes(bytes, type);
        });
        app.MapGet("/redirect", (string to) => Results.Redirect(to));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    public void HoldResponses() => Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Url(string name) => new Uri(BaseAddress, "files/" + name).ToString();

    public byte[] AddFile(string name, int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        Files[name] = bytes;
        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        Gate.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}
