using System.Text.Json;
using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Health;

/// <summary>
/// Active health probe of one ComfyUI: <c>GET /system_stats</c> (version, devices) then
/// <c>GET /prompt</c> (queue), under one per-probe timeout, like YARP's active health checks.
/// </summary>
internal sealed class NodeProber(HttpClient http)
{
    public async Task<ProbeResult> ProbeAsync(string endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var baseUrl = endpoint.TrimEnd('/');
        try
        {
            using var stats = await GetJsonAsync(baseUrl + "/system_stats", deadline.Token);
            var root = stats.RootElement;
            var version = root.TryGetProperty("system", out var system) && system.TryGetProperty("comfyui_version", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : null;
            var devices = new List<DeviceStatus>();
            if (root.TryGetProperty("devices", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var device in list.EnumerateArray())
                {
                    devices.Add(new DeviceStatus
                    {
                        Name = device.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() ?? "" : "",
                        Type = device.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null,
                        Index = device.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32() : null,
                        VramTotal = device.TryGetProperty("vram_total", out var total) && total.ValueKind == JsonValueKind.Number ? (long)total.GetDouble() : 0,
                        VramFree = device.TryGetProperty("vram_free", out var free) && free.ValueKind == JsonValueKind.Number ? (long)free.GetDouble() : 0,
                    });
                }
            }

            using var prompt = await GetJsonAsync(baseUrl + "/prompt", deadline.Token);
            var queue = prompt.RootElement.TryGetProperty("exec_info", out var info) && info.TryGetProperty("queue_remaining", out var remaining) && remaining.ValueKind == JsonValueKind.Number
                ? remaining.GetInt32()
                : 0;
            return new ProbeResult(true, version, devices, queue, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Failed($"no answer within {timeout.TotalSeconds:0.#}s");
        }
        catch (HttpRequestException e)
        {
            return ProbeResult.Failed(e.StatusCode is { } code ? $"HTTP {(int)code}" : e.Message);
        }
        catch (JsonException e)
        {
            return ProbeResult.Failed("not a ComfyUI answer: " + e.Message);
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(body, default, cancellationToken);
    }
}
