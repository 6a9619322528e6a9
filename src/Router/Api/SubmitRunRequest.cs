using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Submissions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ComfyOperator.Router.Api;

/// <summary>
/// Body of <c>POST /v1/runs</c>: an API-format ComfyUI graph and optional scheduling hints. The
/// members are kept as JSON so a value of the wrong type is answered with its field's name.
/// </summary>
internal sealed record SubmitRunRequest(JsonElement? Workflow, JsonElement? Priority, JsonElement? IdempotencyKey, JsonElement? Metadata, JsonElement? Webhook)
{
    private const string WebhookShape = "'webhook' must be {\"url\": \"https://...\", \"events\"?: [\"run.succeeded\", ...]}.";

    /// <summary>The command, or the problem with the field that has the wrong type.</summary>
    public ProblemHttpResult? ToCommand(string? keyHeader, string? owner, out SubmitRun command)
    {
        command = default!;
        var priority = 0;
        if (Present(Priority) is { } p && (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out priority)))
        {
            return Problems.Invalid($"'priority' must be a whole number from {SubmitRun.MinPriority} to {SubmitRun.MaxPriority} (higher runs first).", "priority");
        }

        var key = keyHeader;
        if (Present(IdempotencyKey) is { } k)
        {
            if (k.ValueKind != JsonValueKind.String)
            {
                return Problems.Invalid("'idempotencyKey' must be a string.", "idempotencyKey");
            }

            key = k.GetString();
        }

        string? metadata = null;
        if (Present(Metadata) is { } m)
        {
            if (m.ValueKind != JsonValueKind.Object)
            {
                return Problems.Invalid("'metadata' must be a JSON object.", "metadata");
            }

            metadata = m.GetRawText();
        }

        WebhookTarget? webhook = null;
        if (Present(Webhook) is { } w)
        {
            if (w.ValueKind != JsonValueKind.Object || !TryGet(w, "url", out var url) || url.ValueKind != JsonValueKind.String)
            {
                return Problems.Invalid(WebhookShape, "webhook.url");
            }

            var events = new List<string?>();
            if (TryGet(w, "events", out var list) && list.ValueKind != JsonValueKind.Null)
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    return Problems.Invalid(WebhookShape, "webhook.events");
                }

                foreach (var item in list.EnumerateArray())
                {
                    events.Add(item.ValueKind == JsonValueKind.String ? item.GetString() : item.GetRawText());
                }
            }

            webhook = new WebhookTarget(url.GetString(), events);
        }

        command = new SubmitRun
        {
            Graph = Present(Workflow) is { } graph ? NodeOf(graph) : null,
            Priority = priority,
            IdempotencyKey = key,
            Metadata = metadata,
            Webhook = webhook,
            Owner = owner,
        };
        return null;
    }

    /// <summary>The graph as the submission takes it, made from the body already parsed (its text is not parsed again).</summary>
    private static JsonNode NodeOf(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(element)!,
        JsonValueKind.Array => JsonArray.Create(element)!,
        _ => JsonValue.Create(element)!,
    };

    private static JsonElement? Present(JsonElement? element) => element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } value ? value : null;

    private static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
