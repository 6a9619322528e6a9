using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>Reads a watch stream line by line with a deadline per read.</summary>
internal sealed class WatchReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private WatchReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public int StatusCode => (int)_response.StatusCode;

    public static async Task<WatchReader> OpenAsync(HttpClient http, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        return new WatchReader(response, new StreamReader(stream));
    }

    /// <summary>The next event; throws when the stream ended.</summary>
    public async Task<JsonObject> NextAsync(TimeSpan? timeout = null) =>
        await NextOrEndAsync(timeout) ?? throw new InvalidOperationException("watch ended");

    /// <summary>The next event, or null when the stream ended cleanly.</summary>
    public async Task<JsonObject?> NextOrEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var line = await _reader.ReadLineAsync(cts.Token);
        return line is null ? null : JsonNode.Parse(line)!.AsObject();
    }

    /// <summary>Reads events until one matches; fails at the deadline.</summary>
    public async Task<JsonObject> NextMatchingAsync(Func<JsonObject, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var remaining = deadline - DateTimeOffset.UtcNow;
            Assert.True(remaining > TimeSpan.Zero, "no matching watch event before the deadline");
            var ev = await NextAsync(remaining);
            if (predicate(ev))
            {
                return ev;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal static class WatchEventExtensions
{
    public static string Type(this JsonObject ev) => ev["type"]!.GetValue<string>();

    public static string Name(this JsonObject ev) => ev["object"]!["metadata"]!["name"]!.GetValue<string>();

    public static string Rv(this JsonObject ev) => ev["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>();
}
