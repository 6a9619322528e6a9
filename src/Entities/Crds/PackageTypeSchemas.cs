using System.Text.Json.Nodes;
using k8s.Models;

namespace ComfyOperator.Entities.Crds;

/// <summary>
/// Schemas of the official client's types our specs and statuses embed (<see cref="V1Condition"/>,
/// <see cref="V1Toleration"/>, <see cref="V1EnvVar"/>). Those classes list their properties
/// alphabetically, carry no schema attributes and grow fields with each Kubernetes release, so their
/// schema is written out here: the fields we publish, in the order of the Go structs.
/// </summary>
internal static class PackageTypeSchemas
{
    public static JsonObject? For(Type type) =>
        type == typeof(V1Condition) ? Condition()
        : type == typeof(V1Toleration) ? Toleration()
        : type == typeof(V1EnvVar) ? EnvVar()
        : null;

    private static JsonObject Condition() => Object(
        ("type", String()),
        ("status", String()),
        ("observedGeneration", Int64()),
        ("lastTransitionTime", new JsonObject { ["type"] = "string", ["format"] = "date-time" }),
        ("reason", String()),
        ("message", String()));

    private static JsonObject Toleration() => Object(
        ("key", String()),
        ("operator", String()),
        ("value", String()),
        ("effect", String()),
        ("tolerationSeconds", Int64()));

    private static JsonObject EnvVar() => Object(
        ("name", String()),
        ("value", String()),
        ("valueFrom", Object(
            ("secretKeyRef", KeySelector()),
            ("configMapKeyRef", KeySelector()),
            ("fieldRef", Object(("apiVersion", String()), ("fieldPath", String()))),
            ("resourceFieldRef", new JsonObject { ["x-kubernetes-preserve-unknown-fields"] = true }))));

    private static JsonObject KeySelector() => Object(
        ("name", String()),
        ("key", String()),
        ("optional", new JsonObject { ["type"] = "boolean" }));

    private static JsonObject String() => new() { ["type"] = "string" };

    private static JsonObject Int64() => new() { ["type"] = "integer", ["format"] = "int64" };

    private static JsonObject Object(params (string Name, JsonObject Schema)[] properties)
    {
        var map = new JsonObject();
        foreach (var (name, schema) in properties)
        {
            map[name] = schema;
        }

        return new JsonObject { ["type"] = "object", ["properties"] = map };
    }
}
