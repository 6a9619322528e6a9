using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Routes every HTTP request of the emulator: faults, auth, discovery, OpenAPI, resources.</summary>
internal sealed partial class RequestHandler(ClusterState state, KubeApiEmulatorOptions options, KubeApiFaults faults)
{
    private const string MergePatch = "application/merge-patch+json";
    private const string JsonPatch = "application/json-patch+json";
    private const string StrategicPatch = "application/strategic-merge-patch+json";
    private const string ApplyPatch = "application/apply-patch+yaml";
    private static readonly JsonSerializerOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private long _writeCount;

    public long WriteCount => Interlocked.Read(ref _writeCount);

    public async Task HandleAsync(HttpContext context)
    {
        if (options.RequestLog is { } log)
        {
            // Logged as the response starts, so a client has not seen the answer before its line is written.
            context.Response.OnStarting(() =>
            {
                log($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} {context.Response.StatusCode}");
                return Task.CompletedTask;
            });
        }

        var ct = context.RequestAborted;
        try
        {
            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, options.TimeProvider, ct);
            }

            if (faults.TakeFailure() is { } failure)
            {
                throw failure == 429
                    ? new ApiException(429, Throttled(faults.RetryAfterSeconds)) { RetryAfterSeconds = faults.RetryAfterSeconds }
                    : new ApiException(failure, StatusErrors.Status(failure, failure == 503 ? "ServiceUnavailable" : "InternalError", "Internal error occurred: injected fault"));
            }

            if (options.RequiredBearerToken is { } token && context.Request.Headers.Authorization.ToString() != $"Bearer {token}")
            {
                throw new ApiException(401, StatusErrors.Status(401, "Unauthorized", "Unauthorized"));
            }

            await DispatchAsync(context, ct);
        }
        catch (ApiException e)
        {
            if (!context.Response.HasStarted)
            {
                if (e.RetryAfterSeconds is { } retry)
                {
                    context.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
                }

                await WriteJsonAsync(context, e.Code, e.Status, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
#pragma warning disable CA1031 // a bug in the emulator must reach the test as a 500 with its message, not a dropped connection
        catch (Exception e)
#pragma warning restore CA1031
        {
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, 500, StatusErrors.Status(500, "InternalError", $"Internal error occurred: {e.GetType().Name}: {e.Message}"), ct);
            }
        }
    }

    private static JsonObject Throttled(int retryAfter)
    {
        var status = StatusErrors.Status(429, "TooManyRequests", "Too many requests, please try again later.",
            new JsonObject { ["retryAfterSeconds"] = retryAfter });
        return status;
    }

    private async Task DispatchAsync(HttpContext context, CancellationToken ct)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var method = context.Request.Method;
        if (segments.Length == 0)
        {
            throw StatusErrors.RouteNotFound();
        }

        if (method == "GET" && segments is ["openapi", "v2"])
        {
            if (OpenApiV2.WantsProtobuf(context.Request.Headers.Accept))
            {
                await WriteBytesAsync(context, 200, OpenApiV2.Protobuf(), ct, OpenApiV2.ProtobufMediaType);
            }
            else
            {
                await WriteJsonAsync(context, 200, OpenApiV2.Json(), ct);
            }

            return;
        }

        if (method == "GET")
        {
            var doc = Discover(context, segments);
            if (doc is not null)
            {
                await WriteJsonAsync(context, 200, doc, ct);
                return;
            }
        }

        string group;
        string version;
        string[] rest;
        if (segments[0] == "api" && segments.Length >= 2 && segments[1] == "v1")
        {
            (group, version, rest) = ("", "v1", segments[2..]);
        }
        else if (segments[0] == "apis" && segments.Length >= 3)
        {
            (group, version, rest) = (segments[1], segments[2], segments[3..]);
        }
        else
        {
            throw StatusErrors.RouteNotFound();
        }

        var route = ParseRoute(group, version, rest) ?? throw StatusErrors.RouteNotFound();
        await ServeResourceAsync(context, route, ct);
    }

    private JsonObject? Discover(HttpContext context, string[] s)
    {
        var registry = state.Registry;
        return s switch
        {
            ["version"] => Discovery.Version(),
            ["api"] => Discovery.ApiVersions($"{context.Request.Host}"),
            ["api", "v1"] => Discovery.ResourceList(registry, "", "v1"),
            ["apis"] => Discovery.GroupList(registry),
            ["apis", var g] => Discovery.GroupDocument(registry, g) ?? throw StatusErrors.RouteNotFound(),
            ["apis", var g, var v] => Discovery.ResourceList(registry, g, v) ?? throw StatusErrors.RouteNotFound(),
            ["openapi", "v3"] => Discovery.OpenApiRoot(registry),
            ["openapi", "v3", .. var gv] => Discovery.OpenApiGroupVersion(registry, string.Join('/', gv)) ?? throw StatusErrors.RouteNotFound(),
            ["openapi", ..] => throw StatusErrors.RouteNotFound(),
            ["healthz" or "readyz" or "livez"] => new JsonObject { ["status"] = "ok" },
            _ => null,
        };
    }

    private ResourceRoute? ParseRoute(string group, string version, string[] rest)
    {
        string? ns = null;
        string plural;
        string? name = null;
        string? sub = null;
        if (rest.Length == 0)
        {
            return null;
        }

        var namespacePath = rest[0] == "namespaces" && rest.Length >= 3 && !(group.Length == 0 && rest.Length == 3 && rest[2] is "status" or "finalize");
        if (namespacePath)
        {
            if (rest.Length > 5)
            {
                return null;
            }

            ns = rest[1];
            plural = rest[2];
            name = rest.Length > 3 ? rest[3] : null;
            sub = rest.Length > 4 ? rest[4] : null;
        }
        else
        {
            if (rest.Length > 3)
            {
                return null;
            }

            plural = rest[0];
            name = rest.Length > 1 ? rest[1] : null;
            sub = rest.Length > 2 ? rest[2] : null;
        }

        var type = state.Registry.Find(group, version, plural);
        if (type is null || (!type.Namespaced && ns is not null) || (type.Namespaced && ns is null && name is not null))
        {
            return null;
        }

        if (sub is not null && !((sub == "status" && type.HasStatusSubresource) || (sub == "scale" && type.Scale is not null)))
        {
            throw StatusErrors.NotFound(type, name!);
        }

        return new ResourceRoute(type, ns, name, sub);
    }

    private async Task ServeResourceAsync(HttpContext context, ResourceRoute route, CancellationToken ct)
    {
        var q = context.Request.Query;
        var type = route.Type;
        switch (context.Request.Method)
        {
            case "GET" when route.Name is null:
                if (q["watch"] is var w && (w == "true" || w == "1"))
                {
                    await WatchAsync(context, route, ct);
                }
                else
                {
                    await ListAsync(context, route, ct);
                }

                return;
            case "GET":
                {
                    var obj = state.Get(type, route.Namespace, route.Name);
                    if (route.Subresource == "scale")
                    {
                        await WriteJsonAsync(context, 200, ScaleOf(type, ClusterState.Render(obj, type)), ct);
                    }
                    else if (TableRenderer.WantsTable(context.Request.Headers.Accept))
                    {
                        await WriteJsonAsync(context, 200, TableRenderer.Table(type, [ClusterState.Render(obj, type)], IncludeObject(q), options.TimeProvider.GetUtcNow(), null, null), ct);
                    }
                    else
                    {
                        await WriteBytesAsync(context, 200, ClusterState.RenderBytes(obj, type), ct);
                    }

                    return;
                }

            case "POST" when route.Name is null && (route.Namespace is not null || !type.Namespaced):
                {
                    var body = await ReadObjectAsync(context, allowYaml: false, ct);
                    var result = state.Create(type, route.Namespace, body, WriteOptionsOf(q));
                    await WriteResultAsync(context, result, q, ct);
                    return;
                }

            case "PUT" when route.Name is not null:
                {
                    var body = await ReadObjectAsync(context, allowYaml: false, ct);
                    if (route.Subresource == "scale")
                    {
                        await ScaleUpdateAsync(context, route, body, patch: null, contentType: null, ct);
                        return;
                    }

                    var result = state.Update(type, route.Namespace, route.Name, route.Subresource, _ => (JsonObject)body.DeepClone(), WriteOptionsOf(q), UpdateKind.Put);
                    await WriteResultAsync(context, result, q, ct);
                    return;
                }

            case "PATCH" when route.Name is not null:
                await PatchAsync(context, route, ct);
                return;
            case "DELETE" when route.Name is not null:
                {
                    var deleteOptions = await ReadDeleteOptionsAsync(context, ct);
                    var result = state.Delete(type, route.Namespace, route.Name, deleteOptions);
                    if (!deleteOptions.DryRun)
                    {
                        Interlocked.Increment(ref _writeCount);
                    }

                    await WriteJsonAsync(context, 200, result, ct);
                    return;
                }

            case "DELETE":
                {
                    var deleteOptions = await ReadDeleteOptionsAsync(context, ct);
                    var affected = state.DeleteCollection(type, route.Namespace, LabelSelector.Parse(q["labelSelector"]), FieldSelector.Parse(q["fieldSelector"], type), deleteOptions);
                    if (!deleteOptions.DryRun)
                    {
                        Interlocked.Increment(ref _writeCount);
                    }

                    await WriteJsonAsync(context, 200, new JsonObject
                    {
                        ["kind"] = type.ListKind,
                        ["apiVersion"] = type.ApiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = state.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture) },
                        ["items"] = new JsonArray(affected.Select(a => (JsonNode?)a).ToArray()),
                    }, ct);
                    return;
                }

            default:
                throw StatusErrors.MethodNotAllowed(context.Request.Method.ToLowerInvariant() switch
                {
                    "post" => "create",
                    "put" => "update",
                    "patch" => "patch",
                    _ => context.Request.Method,
                }, type);
        }
    }

    private async Task PatchAsync(HttpContext context, ResourceRoute route, CancellationToken ct)
    {
        var q = context.Request.Query;
        var type = route.Type;
        var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
        var accepted = type.IsCustom
            ? $"{JsonPatch}, {MergePatch}, {ApplyPatch}"
            : $"{JsonPatch}, {MergePatch}, {StrategicPatch}, {ApplyPatch}";
        if (contentType is not (MergePatch or JsonPatch or StrategicPatch or ApplyPatch) || (contentType == StrategicPatch && type.IsCustom))
        {
            throw StatusErrors.UnsupportedMediaType(accepted);
        }

        var patch = BodyReader.Parse(await ReadBodyAsync(context, ct), allowYaml: contentType == ApplyPatch);
        var force = q["force"].ToString();
        if (contentType != ApplyPatch && force.Length > 0)
        {
            throw new ApiException(422, StatusErrors.Status(422, "Invalid", "force: Forbidden: may not be specified for non-apply patch"));
        }

        if (contentType == ApplyPatch && string.IsNullOrEmpty(q["fieldManager"]))
        {
            throw new ApiException(422, StatusErrors.Status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                new JsonObject { ["group"] = "meta.k8s.io", ["kind"] = "PatchOptions", ["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueRequired", ["message"] = "Required value: is required for apply patch", ["field"] = "fieldManager" }) }));
        }

        if (route.Subresource == "scale")
        {
            await ScaleUpdateAsync(context, route, null, patch, contentType, ct);
            return;
        }

        var kind = contentType == ApplyPatch ? UpdateKind.Apply : UpdateKind.Patch;
        var writeOptions = WriteOptionsOf(q);
        Func<JsonObject, JsonObject> produce = current => ApplyPatchTo(type, current, patch, contentType);
        if (kind == UpdateKind.Apply && route.Subresource is null && patch is JsonObject applied)
        {
            var fields = FieldSets.Of(applied, keyedLists: !type.IsCustom);
            writeOptions = writeOptions with { AppliedFields = fields };
            produce = current =>
            {
                var (previous, others) = FieldSets.Recorded(current, writeOptions.FieldManager);
                if (previous is not null)
                {
                    FieldSets.RemoveDropped(current, previous, fields, others);
                }

                return ApplyPatchTo(type, current, patch, contentType);
            };
        }

        var result = state.Update(type, route.Namespace, route.Name!, route.Subresource, produce, writeOptions, kind);
        await WriteResultAsync(context, result, q, ct);
    }

    private static JsonObject ApplyPatchTo(ResourceType type, JsonObject current, JsonNode? patch, string contentType)
    {
        JsonNode? result = contentType switch
        {
            JsonPatch => patch is JsonArray ops ? Patches.JsonPatch(current, ops) : throw StatusErrors.BadRequest("json patch must be an array of operations"),
            MergePatch => patch is JsonObject ? Patches.MergePatch(current, patch) : throw StatusErrors.BadRequest("merge patch must be a JSON object"),
            StrategicPatch => patch is JsonObject ? Patches.StrategicMerge(current, patch) : throw StatusErrors.BadRequest("strategic merge patch must be a JSON object"),
            _ when patch is not JsonObject => throw StatusErrors.BadRequest("apply patch must be an object"),
            _ when type.IsCustom => Patches.MergePatch(current, patch),
            _ => Patches.StrategicMerge(current, patch),
        };
        return result as JsonObject ?? throw new ApiException(422, StatusErrors.Status(422, "Invalid", "the patch produced something that is not an object"));
    }

    private async Task ScaleUpdateAsync(HttpContext context, ResourceRoute route, JsonObject? body, JsonNode? patch, string? contentType, CancellationToken ct)
    {
        var type = route.Type;
        var scale = type.Scale!;
        var result = state.Update(type, route.Namespace, route.Name!, null, current =>
        {
            var target = body ?? ApplyPatchTo(type, ScaleOf(type, current), patch, contentType!);
            var replicas = target["spec"]?["replicas"];
            if (replicas is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var n) || n < 0)
            {
                throw new ApiException(422, StatusErrors.Status(422, "Invalid",
                    $"Scale.autoscaling \"{route.Name}\" is invalid: spec.replicas: Invalid value: {StatusErrors.Render(replicas)}: must be greater than or equal to 0",
                    new JsonObject { ["name"] = route.Name, ["group"] = "autoscaling", ["kind"] = "Scale" }));
            }

            if (MetadataRules.Str(target["metadata"]?["resourceVersion"]) is { Length: > 0 } rv)
            {
                current["metadata"]!["resourceVersion"] = rv;
            }

            JsonPathLite.Set(current, scale.SpecReplicasPath, JsonNode.Parse(n.ToString(CultureInfo.InvariantCulture)));
            return current;
        }, WriteOptionsOf(context.Request.Query), UpdateKind.Patch);
        Interlocked.Increment(ref _writeCount);
        await WriteJsonAsync(context, 200, ScaleOf(type, result.Body), ct);
    }

    private static JsonObject ScaleOf(ResourceType type, JsonObject obj)
    {
        var scale = type.Scale!;
        var meta = obj["metadata"] as JsonObject;
        var status = new JsonObject { ["replicas"] = JsonPathLite.First(obj, scale.StatusReplicasPath)?.DeepClone() ?? 0 };
        string? selector = scale.LabelSelectorPath is { } path
            ? MetadataRules.Str(JsonPathLite.First(obj, path))
            : type.Kind == "Deployment" ? LabelSelector.FromMatchLabels(obj["spec"]?["selector"]?["matchLabels"] as JsonObject) : null;
        if (!string.IsNullOrEmpty(selector))
        {
            status["selector"] = selector;
        }

        var scaleMeta = new JsonObject();
        foreach (var key in new[] { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" })
        {
            if (meta?[key] is JsonNode value)
            {
                scaleMeta[key] = value.DeepClone();
            }
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = scaleMeta,
            ["spec"] = new JsonObject { ["replicas"] = JsonPathLite.First(obj, scale.SpecReplicasPath)?.DeepClone() ?? 0 },
            ["status"] = status,
        };
    }

    private async Task ListAsync(HttpContext context, ResourceRoute route, CancellationToken ct)
    {
        var q = context.Request.Query;
        var type = route.Type;
        var limit = 0;
        if (q["limit"].ToString() is { Length: > 0 } limitText && (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            throw StatusErrors.BadRequest($"invalid limit: {limitText}");
        }

        var page = state.List(type, route.Namespace, LabelSelector.Parse(q["labelSelector"]), FieldSelector.Parse(q["fieldSelector"], type), limit, q["continue"]);
        var rv = page.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        if (TableRenderer.WantsTable(context.Request.Headers.Accept))
        {
            var table = TableRenderer.Table(type, page.Items.Select(i => ClusterState.Render(i, type)), IncludeObject(q), options.TimeProvider.GetUtcNow(), rv, page.Continue);
            await WriteJsonAsync(context, 200, table, ct);
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("kind", type.ListKind);
            writer.WriteString("apiVersion", type.ApiVersion);
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", rv);
            if (page.Continue is not null)
            {
                writer.WriteString("continue", page.Continue);
            }

            if (page.RemainingItemCount is { } remaining)
            {
                writer.WriteNumber("remainingItemCount", remaining);
            }

            writer.WriteEndObject();
            writer.WriteStartArray("items");
            foreach (var item in page.Items)
            {
                writer.WriteRawValue(ClusterState.RenderBytes(item, type), skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await WriteBytesAsync(context, 200, buffer.ToArray(), ct);
    }

    private async Task WriteResultAsync(HttpContext context, WriteResult result, IQueryCollection q, CancellationToken ct)
    {
        foreach (var warning in result.Warnings)
        {
            context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }

        if (!q["dryRun"].Contains("All"))
        {
            Interlocked.Increment(ref _writeCount);
        }

        await WriteJsonAsync(context, result.Code, result.Body, ct);
    }

    private static WriteOptions WriteOptionsOf(IQueryCollection q)
    {
        var validation = q["fieldValidation"].ToString();
        return new WriteOptions(q["dryRun"].Contains("All"), validation is "Strict" or "Ignore" ? validation : "Warn", q["fieldManager"].ToString() is { Length: > 0 } m ? m : null);
    }

    private static string IncludeObject(IQueryCollection q) => q["includeObject"].ToString() is { Length: > 0 } v ? v : "Metadata";

    private static async Task<byte[]> ReadBodyAsync(HttpContext context, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context, bool allowYaml, CancellationToken ct)
    {
        var contentType = context.Request.ContentType ?? "application/json";
        if (ProtobufBody.IsProtobuf(contentType))
        {
            return ProtobufBody.Decode(await ReadBodyAsync(context, ct));
        }

        if (!contentType.Contains("json", StringComparison.OrdinalIgnoreCase) && !contentType.Contains("yaml", StringComparison.OrdinalIgnoreCase))
        {
            // CBOR, and protobuf of kinds ProtobufBody does not know, cannot be decoded without the Go types.
            throw StatusErrors.UnsupportedMediaType("application/json, application/yaml");
        }

        var node = BodyReader.Parse(await ReadBodyAsync(context, ct), allowYaml);
        return node as JsonObject ?? throw StatusErrors.BadRequest("the body of the request must be a JSON object");
    }

    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context, CancellationToken ct)
    {
        var q = context.Request.Query;
        var bytes = await ReadBodyAsync(context, ct);
        var body = ProtobufBody.IsProtobuf(context.Request.ContentType) && bytes.Length > 0
            ? ProtobufBody.Decode(bytes)
            : BodyReader.Parse(bytes, allowYaml: false) as JsonObject;
        var policy = MetadataRules.Str(body?["propagationPolicy"]) ?? (q["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null);
        var orphan = body?["orphanDependents"] is JsonValue o && o.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? o.GetValue<bool>() : (bool?)null;
        if (orphan is not null && policy is not null)
        {
            throw new ApiException(422, StatusErrors.Status(422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \"" + policy + "\": orphanDependents and deletionPropagation cannot be both set"));
        }

        if (orphan is not null)
        {
            policy = orphan.Value ? "Orphan" : "Background";
        }

        if (policy is not (null or "Orphan" or "Background" or "Foreground"))
        {
            throw new ApiException(422, StatusErrors.Status(422, "Invalid", $"DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""));
        }

        var dryRun = q["dryRun"].Contains("All") || (body?["dryRun"] is JsonArray d && d.Any(x => MetadataRules.Str(x) == "All"));
        return new DeleteOptions(policy, MetadataRules.Str(body?["preconditions"]?["uid"]), MetadataRules.Str(body?["preconditions"]?["resourceVersion"]), dryRun);
    }

    private static Task WriteJsonAsync(HttpContext context, int code, JsonNode body, CancellationToken ct) =>
        WriteBytesAsync(context, code, JsonSerializer.SerializeToUtf8Bytes(body, s_json), ct);

    private static async Task WriteBytesAsync(HttpContext context, int code, byte[] body, CancellationToken ct, string contentType = "application/json")
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, ct);
    }
}
