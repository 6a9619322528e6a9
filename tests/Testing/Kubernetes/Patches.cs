using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// Patch semantics. Merge patch (RFC 7386) and JSON patch (RFC 6902) are complete.
/// "Strategic merge lite" (built-in kinds only) is a merge patch that also: drops directive keys
/// starting with <c>$</c> (<c>$setElementOrder</c>, <c>$retainKeys</c>), honours <c>$patch: delete</c>
/// and <c>$patch: replace</c> in maps and keyed list items, applies
/// <c>$deleteFromPrimitiveList/&lt;f&gt;</c>, and merges lists of objects by a key
/// (<c>name</c>, <c>containerPort</c>, <c>port</c>, <c>mountPath</c>, <c>type</c>) instead of replacing them.
/// It leaves out: per-field strategies from the Go structs (lists it does not recognise are replaced;
/// some real keyed lists, e.g. by <c>ip</c>, are replaced), <c>$retainKeys</c> semantics, element ordering.
/// "Apply lite" (server-side apply) deep-merges the applied object (SMP-lite for built-ins, merge
/// patch for CRs) and records one managedFields entry per manager with the fields it applied; fields
/// a manager stops sending are removed (<see cref="FieldSets"/>); no FieldManagerConflict 409 is raised.
/// </summary>
internal static class Patches
{
    private static readonly string[] s_mergeKeys = ["name", "containerPort", "port", "mountPath", "type", "devicePath"];

    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObj)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObj)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                var existing = result[key];
                result.Remove(key);
                result[key] = MergePatch(existing, value);
            }
        }

        return result;
    }

    public static JsonNode? StrategicMerge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObj)
        {
            return patch?.DeepClone();
        }

        if (MetadataRules.Str(patchObj["$patch"]) == "replace")
        {
            var replaced = (JsonObject)patchObj.DeepClone();
            replaced.Remove("$patch");
            return replaced;
        }

        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObj)
        {
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list && value is JsonArray remove)
                {
                    foreach (var item in list.Where(i => remove.Any(r => JsonNode.DeepEquals(i, r))).ToList())
                    {
                        list.Remove(item);
                    }
                }

                continue;
            }

            if (key.StartsWith('$'))
            {
                continue;
            }

            if (value is null || (value is JsonObject o && MetadataRules.Str(o["$patch"]) == "delete"))
            {
                result.Remove(key);
                continue;
            }

            var existing = result[key];
            result.Remove(key);
            result[key] = value is JsonArray patchList && existing is JsonArray baseList
                ? MergeList(baseList, patchList)
                : StrategicMerge(existing, value);
        }

        return result;
    }

    public static JsonNode? JsonPatch(JsonNode? target, JsonArray operations)
    {
        var doc = target?.DeepClone();
        foreach (var opNode in operations)
        {
            if (opNode is not JsonObject op)
            {
                throw Bad("json patch operation must be an object");
            }

            var kind = MetadataRules.Str(op["op"]);
            var path = MetadataRules.Str(op["path"]) ?? throw Bad("json patch operation is missing path");
            switch (kind)
            {
                case "add":
                    doc = Add(doc, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, op["value"]?.DeepClone());
                    break;
                case "move":
                    {
                        var from = MetadataRules.Str(op["from"]) ?? throw Bad("move operation is missing from");
                        doc = Remove(doc, from, out var moved);
                        doc = Add(doc, path, moved);
                        break;
                    }

                case "copy":
                    {
                        var from = MetadataRules.Str(op["from"]) ?? throw Bad("copy operation is missing from");
                        doc = Add(doc, path, Get(doc, from)?.DeepClone());
                        break;
                    }

                case "test":
                    if (!JsonNode.DeepEquals(Get(doc, path), op["value"]))
                    {
                        throw new ApiException(422, StatusErrors.Status(422, "Invalid", $"the server rejected our request due to an error in our request: testing value {path} failed: test failed"));
                    }

                    break;
                default:
                    throw Bad($"Unexpected kind: {kind}");
            }
        }

        return doc;
    }

    private static JsonArray MergeList(JsonArray baseList, JsonArray patchList)
    {
        var key = s_mergeKeys.FirstOrDefault(k => patchList.Count > 0 && patchList.All(i => i is JsonObject o && o.ContainsKey(k))
            && baseList.All(i => i is JsonObject o && o.ContainsKey(k)));
        if (key is null)
        {
            return (JsonArray)StripDirectives(patchList.DeepClone())!;
        }

        var result = new JsonArray(baseList.Select(i => i?.DeepClone()).ToArray());
        foreach (var item in patchList.OfType<JsonObject>())
        {
            var id = item[key];
            var match = result.OfType<JsonObject>().FirstOrDefault(o => JsonNode.DeepEquals(o[key], id));
            if (MetadataRules.Str(item["$patch"]) == "delete")
            {
                if (match is not null)
                {
                    result.Remove(match);
                }

                continue;
            }

            if (match is null)
            {
                result.Add(StripDirectives(item.DeepClone()));
            }
            else
            {
                var index = result.IndexOf(match);
                result.RemoveAt(index);
                result.Insert(index, StrategicMerge(match, item));
            }
        }

        return result;
    }

    private static JsonNode? StripDirectives(JsonNode? node)
    {
        if (node is JsonObject o)
        {
            foreach (var k in o.Select(kv => kv.Key).Where(k => k.StartsWith('$')).ToList())
            {
                o.Remove(k);
            }

            foreach (var (_, v) in o)
            {
                StripDirectives(v);
            }
        }
        else if (node is JsonArray a)
        {
            foreach (var v in a)
            {
                StripDirectives(v);
            }
        }

        return node;
    }

    private static List<string> Pointer(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw Bad($"invalid JSON pointer {path}");
        }

        return path[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Get(JsonNode? doc, string path)
    {
        var node = doc;
        foreach (var token in Pointer(path))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var v) => v,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => throw Bad($"jsonpatch: path {path} does not exist"),
            };
        }

        return node;
    }

    private static JsonNode? Add(JsonNode? doc, string path, JsonNode? value)
    {
        var tokens = Pointer(path);
        if (tokens.Count == 0)
        {
            return value;
        }

        var parent = Get(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw Bad($"jsonpatch add operation does not apply: doc is missing path: \"{path}\"");
        }

        return doc;
    }

    private static JsonNode? Remove(JsonNode? doc, string path, out JsonNode? removed)
    {
        var tokens = Pointer(path);
        if (tokens.Count == 0)
        {
            removed = doc;
            return null;
        }

        var parent = Get(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var v):
                removed = v;
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw Bad($"jsonpatch remove operation does not apply: doc is missing path: \"{path}\"");
        }

        return doc;
    }

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static ApiException Bad(string message) =>
        new(422, StatusErrors.Status(422, "Invalid", $"the server rejected our request due to an error in our request: {message}"));

    /// <summary>True when the node is a JSON value of kind string.</summary>
    public static bool IsString(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String;
}
