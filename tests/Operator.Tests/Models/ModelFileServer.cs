using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Tests.Models;

/// <summary>An in-test HTTP file server (Kestrel on 127.0.0.1) with Range support and injectable faults.</summary>
internal sealed class ModelFileServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ModelFileServer(WebApplication app)
    {
        _app = app;
    }

    public ConcurrentDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Range header of every request, "" when none.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The next N requests send only this many bytes, then drop the connection.</summary>
    public int CutNextRequests { get; set; }

    public int CutAfterBytes { get; set; }

    /// <summary>Streams the body slowly (per 64 KiB chunk), so concurrent downloads overlap.</summary>
    public TimeSpan ChunkDelay { get; set; }

    public string BaseAddress { get; private set; } = string.Empty;

    public static async Task<ModelFileServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ModelFileServer(app);
        app.MapGet("/files/{name}", server.ServeAsync);
        await app.StartAsync();
        server.BaseAddress = app.Urls.First();
        return server;
    }

    public string Url(string name) => $"{BaseAddress}/files/{name}";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context, string name)
    {
        var range = context.Request.Headers.Range.ToString();
        Requests.Enqueue(range);
        if (!Files.TryGetValue(name, out var data))
        {
            context.Response.StatusCode = 404;
            return;
        }

        long start = 0;
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (start >= data.Length)
            {
                context.Response.StatusCode = 416;
                context.Response.Headers.ContentRange = $"bytes */{data.Length}";
                return;
            }

            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{data.Length - 1}/{data.Length}";
        }

        context.Response.ContentLength = data.Length - start;
        var limit = data.Length - start;
        var cut = false;
        if (CutNextRequests > 0)
        {
            CutNextRequests--;
            limit = Math.Min(limit, CutAfterBytes);
            cut = true;
        }

        var sent = 0L;
        while (sent < limit)
        {
            var chunk = (int)Math.Min(64 * 1024, limit - sent);
            await context.Response.Body.WriteAsync(data.AsMemory((int)(start + sent), chunk), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            sent += chunk;
            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay, context.RequestAborted);
            }
        }

        if (cut)
        {
            context.Abort();
        }
    }
}
