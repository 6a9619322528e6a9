using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>Raw HTTP helpers (no src/Comfy dependency): exact status codes and bodies.</summary>
internal static class ComfyUiTestClient
{
    public static async Task<(HttpStatusCode Status, string Body)> PostRawAsync(this HttpClient http, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<(HttpStatusCode Status, JsonObject Body)> PostPromptAsync(this HttpClient http, JsonObject body)
    {
        var (status, text) = await http.PostRawAsync("prompt", body.ToJsonString());
        return (status, JsonNode.Parse(text)!.AsObject());
    }

    public static async Task<string> QueueAsync(this HttpClient http, JsonObject prompt, string? clientId, JsonObject? extra = null)
    {
        var body = new JsonObject { ["prompt"] = prompt.DeepClone() };
        if (clientId is not null)
        {
            body["client_id"] = clientId;
        }

        foreach (var (k, v) in extra ?? [])
        {
            body[k] = v?.DeepClone();
        }

        var (status, json) = await http.PostPromptAsync(body);
        Assert.True(status == HttpStatusCode.OK, json.ToJsonString());
        return json["prompt_id"]!.GetValue<string>();
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Compact JSON text without HTML-safe escaping, for exact comparisons with the doc's examples.</summary>
    public static string Canon(this JsonNode? node) => node?.ToJsonString(Relaxed) ?? "null";

    public static async Task<JsonObject> GetJsonAsync(this HttpClient http, string path) =>
        JsonNode.Parse(await http.GetStringAsync(path))!.AsObject();

    /// <summary>Polls GET /history/{id} until the entry exists (deadline, no fixed sleeps).</summary>
    public static async Task<JsonObject> WaitForHistoryAsync(this HttpClient http, string promptId, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var history = await http.GetJsonAsync($"history/{promptId}");
            if (history[promptId] is JsonObject entry)
            {
                return entry;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"no history for {promptId}");
    }
}
