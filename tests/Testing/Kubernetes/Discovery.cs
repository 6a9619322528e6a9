using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Legacy (unaggregated) discovery documents, /version and the minimal OpenAPI v3 of docs/kubernetes-api.md §1.2–§1.5.</summary>
internal static class Discovery
{
    private static readonly string[] s_verbs = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"];
    private static readonly string[] s_terminatingVerbs = ["delete", "deletecollection", "get", "list", "watch"];

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.23",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject ApiVersions(string hostPort) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = hostPort }),
    };

    public static JsonObject GroupList(ResourceRegistry registry) => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(registry.Groups().Select(g => (JsonNode?)Group(g.Group, g.Versions)).ToArray()),
    };

    public static JsonObject? GroupDocument(ResourceRegistry registry, string group)
    {
        var match = registry.Groups().FirstOrDefault(g => g.Group == group);
        return match.Group is null ? null : Group(match.Group, match.Versions);
    }

    public static JsonObject? ResourceList(ResourceRegistry registry, string group, string version)
    {
        var types = registry.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (var t in types)
        {
            var verbs = t.Terminating ? s_terminatingVerbs : s_verbs;
            var r = new JsonObject
            {
                ["name"] = t.Plural,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = Array(verbs),
            };
            if (t.ShortNames.Count > 0)
            {
                r["shortNames"] = Array(t.ShortNames);
            }

            if (t.Categories.Count > 0)
            {
                r["categories"] = Array(t.Categories);
            }

            resources.Add(r);
            if (t.HasStatusSubresource)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = t.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = t.Namespaced,
                    ["kind"] = t.Kind,
                    ["verbs"] = Array(["get", "patch", "update"]),
                });
            }

            if (t.Scale is not null)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = t.Plural + "/scale",
                    ["singularName"] = "",
                    ["namespaced"] = t.Namespaced,
                    ["group"] = "autoscaling",
                    ["version"] = "v1",
                    ["kind"] = "Scale",
                    ["verbs"] = Array(["get", "patch", "update"]),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    /// <summary>
    /// OpenAPI v3 root listing the built-in group-versions only. kubectl then finds CR kinds through
    /// the CRD list and checks the Namespace PATCH operation, which declares fieldValidation (docs/kubernetes-api.md §1.5).
    /// </summary>
    public static JsonObject OpenApiRoot(ResourceRegistry registry)
    {
        var paths = new JsonObject();
        foreach (var gv in registry.All.Where(t => !t.IsCustom).Select(t => t.GroupVersion).Distinct())
        {
            var key = gv.Contains('/', StringComparison.Ordinal) ? $"apis/{gv}" : $"api/{gv}";
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash=emulator" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    /// <summary>A group-version document with one PATCH operation per kind declaring fieldValidation.</summary>
    public static JsonObject? OpenApiGroupVersion(ResourceRegistry registry, string path)
    {
        var types = registry.All.Where(t => !t.IsCustom && (t.Group.Length == 0 ? $"api/{t.Version}" : $"apis/{t.Group}/{t.Version}") == path).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        foreach (var t in types)
        {
            var prefix = t.Group.Length == 0 ? $"/api/{t.Version}" : $"/apis/{t.Group}/{t.Version}";
            var route = t.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{t.Plural}/{{name}}" : $"{prefix}/{t.Plural}/{{name}}";
            paths[route] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = t.Group, ["version"] = t.Version, ["kind"] = t.Kind },
                    ["parameters"] = new JsonArray(new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                },
            };
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
        };
    }

    private static JsonObject Group(string name, IReadOnlyList<string> versions)
    {
        var list = new JsonArray();
        foreach (var v in versions)
        {
            list.Add(new JsonObject { ["groupVersion"] = $"{name}/{v}", ["version"] = v });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = name,
            ["versions"] = list,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    private static JsonArray Array(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
}
