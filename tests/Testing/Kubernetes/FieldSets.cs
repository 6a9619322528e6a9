using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// Field ownership of server-side apply, lite: the fields an applied configuration sets, in the
/// managedFields <c>FieldsV1</c> format (<c>f:name</c> per map key, <c>k:{"name":"x"}</c> per item of
/// a list keyed by one of the strategic-merge keys, other lists owned whole). When a manager applies
/// again, the fields it set before and no longer sends are removed unless another manager's apply
/// also set them (Helm's upgrade relies on this to drop a setting or an env var). Ownership taken
/// by non-apply writes and conflicts between managers are left out.
/// </summary>
internal static class FieldSets
{
    private static readonly string[] s_keys = ["name", "containerPort", "port", "mountPath", "type", "devicePath"];

    /// <summary>metadata fields the server owns, never recorded for a manager.</summary>
    private static readonly string[] s_systemMetadata = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"];

    /// <summary>The FieldsV1 set of an applied object (lists keyed only for built-in kinds, as SMP-lite merges them).</summary>
    public static JsonObject Of(JsonObject applied, bool keyedLists)
    {
        var fields = new JsonObject();
        foreach (var (key, value) in applied)
        {
            if (key is "apiVersion" or "kind")
            {
                continue;
            }

            if (key == "metadata" && value is JsonObject meta)
            {
                var metaFields = Map(new JsonObject(meta.Where(p => !s_systemMetadata.Contains(p.Key)).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))), keyedLists);
                if (metaFields.Count > 0)
                {
                    fields["f:metadata"] = metaFields;
                }

                continue;
            }

            fields["f:" + key] = Node(value, keyedLists);
        }

        return fields;
    }

    /// <summary>The union of the sets recorded for other managers' applies.</summary>
    public static (JsonObject? Mine, List<JsonObject> Others) Recorded(JsonObject obj, string? manager)
    {
        JsonObject? mine = null;
        var others = new List<JsonObject>();
        foreach (var entry in (obj["metadata"]?["managedFields"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (MetadataRules.Str(entry["operation"]) != "Apply" || entry["subresource"] is not null || entry["fieldsV1"] is not JsonObject set)
            {
                continue;
            }

            if (MetadataRules.Str(entry["manager"]) == manager)
            {
                mine = set;
            }
            else
            {
                others.Add(set);
            }
        }

        return (mine, others);
    }

    /// <summary>Removes from <paramref name="target"/> what <paramref name="previous"/> owned, <paramref name="next"/> does not, and no other set owns.</summary>
    public static void RemoveDropped(JsonObject target, JsonObject previous, JsonObject next, IReadOnlyList<JsonObject> others)
    {
        foreach (var (key, value) in previous)
        {
            var name = key.StartsWith("f:", StringComparison.Ordinal) ? key[2..] : null;
            if (name is null || !target.ContainsKey(name))
            {
                continue;
            }

            var otherChildren = others.Select(o => o[key]).OfType<JsonObject>().ToList();
            if (next[key] is not JsonObject nextChild)
            {
                if (otherChildren.Count == 0)
                {
                    target.Remove(name);
                    continue;
                }

                nextChild = [];
            }

            if (value is JsonObject { Count: > 0 } deeper)
            {
                switch (target[name])
                {
                    case JsonObject map:
                        RemoveDropped(map, deeper, nextChild, otherChildren);
                        break;
                    case JsonArray list:
                        RemoveDroppedItems(list, deeper, nextChild, otherChildren);
                        break;
                }
            }
        }
    }

    private static JsonObject Node(JsonNode? value, bool keyedLists) => value switch
    {
        JsonObject map => Map(map, keyedLists),
        JsonArray list when keyedLists && KeyOf(list) is { } key => KeyedList(list, key, keyedLists),
        _ => [],
    };

    private static JsonObject Map(JsonObject map, bool keyedLists)
    {
        var fields = new JsonObject();
        foreach (var (key, value) in map)
        {
            if (!key.StartsWith('$'))
            {
                fields["f:" + key] = Node(value, keyedLists);
            }
        }

        return fields;
    }

    private static JsonObject KeyedList(JsonArray list, string key, bool keyedLists)
    {
        var fields = new JsonObject();
        foreach (var item in list.OfType<JsonObject>())
        {
            fields[ItemKey(key, item[key])] = Map(item, keyedLists);
        }

        return fields;
    }

    private static string? KeyOf(JsonArray list) =>
        list.Count == 0 ? null : s_keys.FirstOrDefault(k => list.All(i => i is JsonObject o && o[k] is JsonValue));

    private static string ItemKey(string key, JsonNode? value) =>
        "k:" + JsonSerializer.Serialize(new JsonObject { [key] = value?.DeepClone() });

    /// <summary>Like <see cref="RemoveDropped"/> for the items of a keyed list.</summary>
    private static void RemoveDroppedItems(JsonArray list, JsonObject previous, JsonObject next, IReadOnlyList<JsonObject> others)
    {
        foreach (var (key, value) in previous)
        {
            if (!key.StartsWith("k:", StringComparison.Ordinal) || JsonNode.Parse(key[2..]) is not JsonObject { Count: 1 } id)
            {
                continue;
            }

            var (field, wanted) = (id.First().Key, id.First().Value);
            var item = list.OfType<JsonObject>().FirstOrDefault(o => JsonNode.DeepEquals(o[field], wanted));
            if (item is null)
            {
                continue;
            }

            var otherItems = others.Select(o => o[key]).OfType<JsonObject>().ToList();
            if (next[key] is not JsonObject nextItem)
            {
                if (otherItems.Count == 0)
                {
                    list.Remove(item);
                    continue;
                }

                nextItem = [];
            }

            if (value is JsonObject deeper)
            {
                RemoveDropped(item, deeper, nextItem, otherItems);
            }
        }
    }
}
