using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>One <c>{type, message, details, extra_info}</c> error of a POST /prompt answer (docs/comfyui-protocol.md §2.4).</summary>
public sealed record ComfyErrorDetail(string Type, string Message, string Details, JsonObject? ExtraInfo)
{
    /// <summary><c>extra_info.input_name</c>: the input the error is about, when the server says.</summary>
    public string? InputName => JsonRead.String(ExtraInfo, "input_name");

    /// <summary><c>extra_info.received_value</c> as JSON, when present.</summary>
    public JsonNode? ReceivedValue => ExtraInfo?["received_value"];

    internal static ComfyErrorDetail Parse(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            return new ComfyErrorDetail(
                JsonRead.String(obj, "type") ?? "",
                JsonRead.String(obj, "message") ?? "",
                JsonRead.String(obj, "details") ?? "",
                JsonRead.Object(obj, "extra_info"));
        }

        // Some servers and proxies answer {"error": "text"}.
        var text = JsonRead.String(node) ?? "";
        return new ComfyErrorDetail("", text, "", null);
    }

    public override string ToString()
    {
        var head = string.IsNullOrEmpty(Type) ? Message : $"{Type}: {Message}";
        return string.IsNullOrEmpty(Details) ? head : $"{head} ({Details})";
    }
}
