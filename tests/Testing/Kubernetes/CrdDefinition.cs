using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>CustomResourceDefinition handling: validation (docs/kubernetes-api.md §6.1), defaults, and the types a CRD serves.</summary>
internal static class CrdDefinition
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    /// <summary>Fills the defaults of docs/kubernetes-api.md §6.1 in place.</summary>
    public static void ApplyDefaults(JsonObject crd)
    {
        if (crd["spec"] is not JsonObject spec)
        {
            return;
        }

        if (spec["names"] is JsonObject names && names["kind"]?.GetValue<string>() is { } kind)
        {
            names["singular"] ??= kind.ToLowerInvariant();
            names["listKind"] ??= kind + "List";
        }

        spec["conversion"] ??= new JsonObject { ["strategy"] = "None" };
        if (spec["versions"] is JsonArray versions)
        {
            foreach (var v in versions.OfType<JsonObject>())
            {
                v["served"] ??= true;
                v["storage"] ??= false;
            }
        }
    }

    public static List<FieldError> Validate(JsonObject crd)
    {
        var errors = new List<FieldError>();
        var name = Str(crd["metadata"]?["name"]);
        if (crd["spec"] is not JsonObject spec)
        {
            errors.Add(StatusErrors.Required("spec"));
            return errors;
        }

        var group = Str(spec["group"]);
        var plural = Str(spec["names"]?["plural"]);
        if (string.IsNullOrEmpty(group))
        {
            errors.Add(StatusErrors.Required("spec.group"));
        }

        if (string.IsNullOrEmpty(plural))
        {
            errors.Add(StatusErrors.Required("spec.names.plural"));
        }

        if (string.IsNullOrEmpty(Str(spec["names"]?["kind"])))
        {
            errors.Add(StatusErrors.Required("spec.names.kind"));
        }

        if (!string.IsNullOrEmpty(group) && !string.IsNullOrEmpty(plural) && name != $"{plural}.{group}")
        {
            errors.Add(StatusErrors.InvalidValue("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
        }

        var scope = Str(spec["scope"]);
        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(StatusErrors.NotSupported("spec.scope", scope, ["\"Cluster\"", "\"Namespaced\""]));
        }

        if (spec["versions"] is not JsonArray versions || versions.Count == 0)
        {
            errors.Add(StatusErrors.Required("spec.versions", "must have exactly one version marked as storage version"));
            return errors;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var storage = 0;
        for (var i = 0; i < versions.Count; i++)
        {
            var v = versions[i] as JsonObject;
            var vn = Str(v?["name"]);
            if (string.IsNullOrEmpty(vn))
            {
                errors.Add(StatusErrors.Required($"spec.versions[{i}].name"));
            }
            else if (!seen.Add(vn))
            {
                errors.Add(new FieldError("FieldValueDuplicate", $"spec.versions[{i}].name", $"Duplicate value: \"{vn}\""));
            }

            if (v?["storage"]?.GetValue<bool>() == true)
            {
                storage++;
            }

            if (v?["schema"]?["openAPIV3Schema"] is not JsonObject)
            {
                errors.Add(StatusErrors.Required($"spec.versions[{i}].schema.openAPIV3Schema"));
            }
        }

        if (storage != 1)
        {
            errors.Add(StatusErrors.InvalidValue("spec.versions", JsonValue.Create(versions.ToJsonString()), "must have exactly one version marked as storage version"));
        }

        return errors;
    }

    /// <summary>Status written after create, as the naming and establishing controllers do.</summary>
    public static void WriteStatus(JsonObject crd, string now)
    {
        var spec = crd["spec"]!.AsObject();
        var storage = spec["versions"]!.AsArray().OfType<JsonObject>().FirstOrDefault(v => v["storage"]?.GetValue<bool>() == true)?["name"]?.GetValue<string>();
        var existing = crd["status"]?["storedVersions"] as JsonArray;
        var stored = existing is null ? [] : existing.Select(x => x?.GetValue<string>()).OfType<string>().ToList();
        if (storage is not null && !stored.Contains(storage))
        {
            stored.Add(storage);
        }

        crd["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "NamesAccepted", ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "NoConflicts", ["message"] = "no conflicts found" },
                new JsonObject { ["type"] = "Established", ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "InitialNamesAccepted", ["message"] = "the initial names have been accepted" }),
            ["acceptedNames"] = spec["names"]!.DeepClone(),
            ["storedVersions"] = new JsonArray(stored.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
        };
    }

    public static IReadOnlyList<ResourceType> Types(JsonObject crd)
    {
        var spec = crd["spec"]!.AsObject();
        var group = Str(spec["group"])!;
        var names = spec["names"]!.AsObject();
        var plural = Str(names["plural"])!;
        var kind = Str(names["kind"])!;
        var terminating = crd["metadata"]?["deletionTimestamp"] is not null;
        var result = new List<ResourceType>();
        foreach (var v in spec["versions"]!.AsArray().OfType<JsonObject>())
        {
            if (v["served"]?.GetValue<bool>() == false)
            {
                continue;
            }

            var sub = v["subresources"] as JsonObject;
            ScaleSubresource? scale = null;
            if (sub?["scale"] is JsonObject s)
            {
                scale = new ScaleSubresource(Str(s["specReplicasPath"]) ?? ".spec.replicas", Str(s["statusReplicasPath"]) ?? ".status.replicas", Str(s["labelSelectorPath"]));
            }

            var columns = new List<PrinterColumn>();
            if (v["additionalPrinterColumns"] is JsonArray cols && cols.Count > 0)
            {
                foreach (var c in cols.OfType<JsonObject>())
                {
                    columns.Add(new PrinterColumn(Str(c["name"]) ?? "", Str(c["type"]) ?? "string", Str(c["format"]), Str(c["description"]) ?? "",
                        c["priority"]?.GetValue<int>() ?? 0, Str(c["jsonPath"]) ?? ""));
                }
            }
            else
            {
                columns.Add(BuiltInResources.AgeColumn);
            }

            result.Add(new ResourceType
            {
                Group = group,
                Version = Str(v["name"])!,
                Plural = plural,
                Singular = Str(names["singular"]) ?? kind.ToLowerInvariant(),
                Kind = kind,
                ListKindOverride = Str(names["listKind"]),
                Namespaced = Str(spec["scope"]) == "Namespaced",
                ShortNames = (names["shortNames"] as JsonArray)?.Select(x => Str(x)!).ToList() ?? [],
                Categories = (names["categories"] as JsonArray)?.Select(x => Str(x)!).ToList() ?? [],
                HasStatusSubresource = sub?["status"] is not null,
                Scale = scale,
                HasGeneration = true,
                Schema = v["schema"]?["openAPIV3Schema"]?.DeepClone() as JsonObject,
                IsCustom = true,
                StorageKey = $"{group}/{plural}",
                Columns = columns,
                Terminating = terminating,
            });
        }

        return result;
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
