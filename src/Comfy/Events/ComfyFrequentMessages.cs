using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ComfyOperator.Comfy.Events;

/// <summary>
/// Reads the messages a worker sends many times per prompt (<c>status</c>, <c>executing</c>,
/// <c>progress</c>, <c>progress_state</c>), and the small ones every prompt sends (<c>execution_start</c>,
/// <c>execution_cached</c>, <c>execution_success</c>) straight from the UTF-8 bytes, without building a
/// <see cref="System.Text.Json.Nodes.JsonNode"/> tree first: a prompt's <c>progress_state</c> messages
/// alone cost about 50 KB of short-lived nodes that way. The result is what
/// <see cref="ComfyMessageParser.ParseMessage"/> makes of the same bytes, with the same leniency
/// (<see cref="Json.JsonRead"/>: numbers as strings, a wrong kind reads as absent, unknown keys
/// ignored); anything else, and anything surprising, returns null for the tree parser to handle.
/// </summary>
internal static class ComfyFrequentMessages
{
    /// <summary>A <c>progress_state</c> node's states (docs/comfyui-protocol.md §5.3).</summary>
    private static readonly string[] States = ["running", "finished", "pending", "error"];

    public static ComfyEvent? TryRead(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return Read(utf8);
        }
        catch (JsonException)
        {
            // Malformed: the tree parser reports it.
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static ComfyEvent? Read(ReadOnlySpan<byte> utf8)
    {
        // Pass 1: the type (it may come after data) and where data starts; also checks the whole frame is JSON.
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? type = null;
        var data = -1;
        var dataIsObject = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                data = (int)reader.TokenStartIndex;
                dataIsObject = reader.TokenType == JsonTokenType.StartObject;
            }
            else
            {
                reader.Read();
            }

            reader.Skip();
        }

        if (reader.Read())
        {
            return null;
        }

        switch (type)
        {
            case "status":
                return dataIsObject ? Status(utf8[data..]) : new ComfyStatusEvent(null, null);
            case "executing" or "progress" or "progress_state" or "execution_start" or "execution_cached" or "execution_success" when dataIsObject:
                return PromptMessage(type, utf8[data..]);
            default:
                return null;
        }
    }

    private static ComfyStatusEvent Status(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        reader.Read();
        int? queueRemaining = null;
        string? sid = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                queueRemaining = reader.TokenType == JsonTokenType.StartObject ? QueueRemaining(ref reader) : Skip(ref reader);
            }
            else if (reader.ValueTextEquals("sid"u8))
            {
                reader.Read();
                sid = String(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ComfyStatusEvent(queueRemaining, sid);
    }

    /// <summary><c>status.exec_info.queue_remaining</c>, the reader on the <c>status</c> object's start.</summary>
    private static int? QueueRemaining(ref Utf8JsonReader reader)
    {
        int? remaining = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isExecInfo = reader.ValueTextEquals("exec_info"u8);
            reader.Read();
            if (!isExecInfo || reader.TokenType != JsonTokenType.StartObject)
            {
                remaining = isExecInfo ? null : remaining;
                reader.Skip();
                continue;
            }

            remaining = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isRemaining = reader.ValueTextEquals("queue_remaining"u8);
                reader.Read();
                if (isRemaining)
                {
                    remaining = (int?)Long(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return remaining;
    }

    private static ComfyEvent PromptMessage(string type, ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        reader.Read();
        string? promptId = null, node = null, displayNode = null;
        double? value = null, max = null;
        long? timestamp = null;
        Dictionary<string, ComfyNodeProgress>? nodes = null;
        IReadOnlyList<string>? cached = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            var escaped = reader.ValueIsEscaped;
            reader.Read();
            switch (escaped ? null : Key(name))
            {
                case "prompt_id":
                    promptId = String(ref reader);
                    break;
                case "node":
                    node = String(ref reader);
                    break;
                case "display_node":
                    displayNode = String(ref reader);
                    break;
                case "value":
                    value = Double(ref reader);
                    break;
                case "max":
                    max = Double(ref reader);
                    break;
                case "timestamp":
                    timestamp = Long(ref reader);
                    break;
                case "nodes" when type == "execution_cached":
                    cached = StringList(ref reader);
                    break;
                case "nodes":
                    nodes = reader.TokenType == JsonTokenType.StartObject ? Nodes(ref reader) : null;
                    if (nodes is null)
                    {
                        reader.Skip();
                    }

                    break;
                default:
                    if (escaped)
                    {
                        // An escaped key may still spell one of ours: let the tree parser decide.
                        throw new FormatException();
                    }

                    reader.Skip();
                    break;
            }
        }

        return type switch
        {
            "executing" => new ComfyExecutingEvent(node, displayNode) { PromptId = promptId },
            "progress" => new ComfyProgressEvent(value ?? 0, max ?? 0, node) { PromptId = promptId },
            "execution_start" => new ComfyExecutionStartEvent(timestamp) { PromptId = promptId },
            "execution_success" => new ComfyExecutionSuccessEvent(timestamp) { PromptId = promptId },
            "execution_cached" => new ComfyExecutionCachedEvent(cached ?? [], timestamp) { PromptId = promptId },
            _ => new ComfyProgressStateEvent(nodes ?? new Dictionary<string, ComfyNodeProgress>(StringComparer.Ordinal)) { PromptId = promptId },
        };
    }

    private static string? Key(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("prompt_id"u8) ? "prompt_id"
        : name.SequenceEqual("node"u8) ? "node"
        : name.SequenceEqual("display_node"u8) ? "display_node"
        : name.SequenceEqual("value"u8) ? "value"
        : name.SequenceEqual("max"u8) ? "max"
        : name.SequenceEqual("nodes"u8) ? "nodes"
        : name.SequenceEqual("timestamp"u8) ? "timestamp"
        : null;

    /// <summary>As <see cref="Json.JsonRead.StringList"/>: the strings (and numbers' text) of an array, the reader on it; else empty.</summary>
    private static List<string> StringList(ref Utf8JsonReader reader)
    {
        var list = new List<string>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return list;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (String(ref reader) is { } item)
            {
                list.Add(item);
            }
        }

        return list;
    }

    /// <summary>A <c>progress_state</c>'s <c>nodes</c>, the reader on its start; a node that is not an object reads as all defaults.</summary>
    private static Dictionary<string, ComfyNodeProgress> Nodes(ref Utf8JsonReader reader)
    {
        var result = new Dictionary<string, ComfyNodeProgress>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var id = reader.GetString()!;
            reader.Read();
            string? nodeId = null, state = null, display = null, parent = null, real = null;
            double? value = null, max = null;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueIsEscaped)
                    {
                        throw new FormatException();
                    }

                    var name = reader.ValueSpan;
                    reader.Read();
                    if (name.SequenceEqual("node_id"u8))
                    {
                        nodeId = String(ref reader, id);
                    }
                    else if (name.SequenceEqual("value"u8))
                    {
                        value = Double(ref reader);
                    }
                    else if (name.SequenceEqual("max"u8))
                    {
                        max = Double(ref reader);
                    }
                    else if (name.SequenceEqual("state"u8))
                    {
                        state = String(ref reader, States);
                    }
                    else if (name.SequenceEqual("display_node_id"u8))
                    {
                        display = String(ref reader, id);
                    }
                    else if (name.SequenceEqual("parent_node_id"u8))
                    {
                        parent = String(ref reader);
                    }
                    else if (name.SequenceEqual("real_node_id"u8))
                    {
                        real = String(ref reader, id);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }

            result[id] = new ComfyNodeProgress(nodeId ?? id, value ?? 0, max ?? 0, state ?? "", display, parent, real);
        }

        return result;
    }

    /// <summary>
    /// As <see cref="String(ref Utf8JsonReader)"/>, but a string equal to <paramref name="known"/> is that instance: a
    /// <c>progress_state</c> names each node by its own id three times over, in every message.
    /// </summary>
    private static string? String(ref Utf8JsonReader reader, string known) =>
        reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(known) ? known : String(ref reader);

    /// <summary>As <see cref="String(ref Utf8JsonReader)"/>, but one of the <paramref name="known"/> strings is that instance.</summary>
    private static string? String(ref Utf8JsonReader reader, string[] known)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            foreach (var candidate in known)
            {
                if (reader.ValueTextEquals(candidate))
                {
                    return candidate;
                }
            }
        }

        return String(ref reader);
    }

    /// <summary>As <see cref="Json.JsonRead.String(System.Text.Json.Nodes.JsonNode?)"/>: a string, or a number's text; else null.</summary>
    private static string? String(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                return Encoding.UTF8.GetString(reader.ValueSpan);
            default:
                reader.Skip();
                return null;
        }
    }

    /// <summary>As <see cref="Json.JsonRead.Double(System.Text.Json.Nodes.JsonNode?)"/>.</summary>
    private static double? Double(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return reader.TryGetDouble(out var d) ? d : double.Parse(reader.ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture);
            case JsonTokenType.String:
                return double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            default:
                reader.Skip();
                return null;
        }
    }

    /// <summary>As <see cref="Json.JsonRead.Long(System.Text.Json.Nodes.JsonNode?)"/>.</summary>
    private static long? Long(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var l))
                {
                    return l;
                }

                var d = Double(ref reader)!.Value;
                return !double.IsNaN(d) && !double.IsInfinity(d) && d >= long.MinValue && d <= long.MaxValue ? (long)d : null;
            case JsonTokenType.String:
                return long.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            default:
                reader.Skip();
                return null;
        }
    }

    private static int? Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
