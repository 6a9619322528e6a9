using System.Runtime.CompilerServices;
using System.Text.Json;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Serialization;

namespace ComfyOperator.Kubernetes.Watch;

/// <summary>
/// Parses a watch response body: one JSON object per line, <c>{"type":..., "object":...}</c>.
/// An ERROR frame (or any frame whose object is a Status, which is how the official client
/// detects them) is thrown as <see cref="KubernetesException"/> carrying that Status.
/// </summary>
public static class WatchStreamReader
{
    public static async IAsyncEnumerable<WatchEvent<T>> ReadAsync<T>(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                yield break;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            yield return ParseLine<T>(line);
        }
    }

    public static WatchEvent<T> ParseLine<T>(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        RawWatchEvent? raw;
        try
        {
            raw = JsonSerializer.Deserialize<RawWatchEvent>(line, KubernetesJson.Options);
        }
        catch (JsonException exception)
        {
            throw new KubernetesException($"Malformed watch event: {Truncate(line)}", exception);
        }

        if (raw is null || raw.Type is null || raw.Object.ValueKind != JsonValueKind.Object)
        {
            throw new KubernetesException($"Malformed watch event: {Truncate(line)}");
        }

        var isStatus = raw.Object.TryGetProperty("kind", out var kind) && kind.ValueEquals("Status") && typeof(T) != typeof(Status);
        var type = raw.Type switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => WatchEventType.Error,
            _ => throw new KubernetesException($"Unknown watch event type '{raw.Type}'."),
        };
        if (type == WatchEventType.Error || isStatus)
        {
            var status = raw.Object.Deserialize<Status>(KubernetesJson.Options) ?? new Status { Message = "watch ERROR event without a Status" };
            throw new KubernetesException(status);
        }

        var value = raw.Object.Deserialize<T>(KubernetesJson.Options) ?? throw new KubernetesException($"Watch event without an object: {Truncate(line)}");
        return new WatchEvent<T>(type, value);
    }

    private static string Truncate(string line) => line.Length <= 200 ? line : line[..200] + "...";

    private sealed class RawWatchEvent
    {
        public string? Type { get; set; }

        public JsonElement Object { get; set; }
    }
}
