using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// All stored objects, the global resourceVersion counter, the watch history ring and open watches.
/// Every write runs under one lock and delivers its watch events from the same critical section, so
/// watchers see resourceVersions in commit order. Garbage collection (docs/kubernetes-api.md §5), namespace and CRD cleanup
/// run synchronously inside the write that triggers them.
/// </summary>
internal sealed partial class ClusterState
{
    public const string ForegroundFinalizer = "foregroundDeletion";
    public const string OrphanFinalizer = "orphan";
    private const string NamespacesKey = "/namespaces";
    private const string CrdKey = "apiextensions.k8s.io/customresourcedefinitions";
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private static readonly string[] s_protectedNamespaces = ["default", "kube-system", "kube-public"];

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _stores = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredObject> _byUid = new(StringComparer.Ordinal);
    private readonly WatchEvent?[] _history;
    private readonly List<Watcher> _watchers = [];
    private readonly int _watchBufferCapacity;
    private int _historyStart;
    private int _historyCount;
    private long _compactedRv;
    private long _rv;

    public ClusterState(TimeProvider time, int historyCapacity, int watchBufferCapacity)
    {
        _time = time;
        _history = new WatchEvent?[Math.Max(1, historyCapacity)];
        _watchBufferCapacity = Math.Max(16, watchBufferCapacity);
        Registry = new ResourceRegistry();
        var nsType = Registry.Find("", "v1", "namespaces")!;
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            Create(nsType, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, new WriteOptions(false, "Ignore", null));
        }
    }

    public ResourceRegistry Registry { get; }

    public long CurrentResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _rv;
            }
        }
    }

    public int OpenWatchCount
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    public StoredObject Get(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return Find(type, ns, name) ?? throw StatusErrors.NotFound(type, name);
        }
    }

    public ListResult List(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, int limit, string? continueToken)
    {
        lock (_gate)
        {
            var listRv = _rv;
            string? after = null;
            if (!string.IsNullOrEmpty(continueToken))
            {
                (listRv, after) = DecodeContinue(continueToken);
                if (listRv < _compactedRv)
                {
                    throw new ApiException(410, StatusErrors.Status(410, "Expired",
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."));
                }
            }

            var items = new List<StoredObject>();
            string? next = null;
            long remaining = 0;
            foreach (var obj in Store(type.StorageKey).Values)
            {
                if ((ns is not null && obj.Namespace != ns) || (after is not null && string.CompareOrdinal(obj.Key, after) <= 0))
                {
                    continue;
                }

                if (!labels.Matches(obj.Node["metadata"]?["labels"] as JsonObject) || !fields.Matches(obj.Node))
                {
                    continue;
                }

                if (limit > 0 && items.Count >= limit)
                {
                    remaining++;
                    continue;
                }

                items.Add(obj);
            }

            if (remaining > 0)
            {
                next = EncodeContinue(listRv, items[^1].Key);
            }

            return new ListResult(items, listRv, next, remaining > 0 && labels.IsEmpty && fields.IsEmpty ? remaining : null);
        }
    }

    public WriteResult Create(ResourceType type, string? ns, JsonObject body, WriteOptions options)
    {
        var warnings = new List<string>();
        var obj = (JsonObject)body.DeepClone();
        CheckApiVersionAndKind(type, obj);
        var meta = Meta(obj);
        NormaliseNamespace(type, ns, meta);
        meta.Remove("resourceVersion");
        meta.Remove("uid");
        meta.Remove("deletionTimestamp");
        meta.Remove("deletionGracePeriodSeconds");
        meta.Remove("generation");
        meta.Remove("creationTimestamp");
        var generateName = MetadataRules.Str(meta["generateName"]);
        var name = MetadataRules.Str(meta["name"]);
        if (type.HasStatusSubresource && type.Plural != "namespaces")
        {
            obj.Remove("status");
        }

        PrepareBody(type, obj, options, warnings);
        if (string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(generateName))
        {
            meta["name"] = generateName + "xxxxx";
        }

        var errors = MetadataRules.Validate(type, obj);
        if (errors.Count > 0)
        {
            throw StatusErrors.Invalid(type, name ?? generateName ?? "", errors);
        }

        lock (_gate)
        {
            if (type.Namespaced)
            {
                CheckNamespaceOpen(type, meta, name ?? generateName ?? "");
            }

            if (type.Terminating)
            {
                throw StatusErrors.MethodNotAllowed("create", type);
            }

            if (string.IsNullOrEmpty(name))
            {
                for (var attempt = 0; ; attempt++)
                {
                    name = (generateName!.Length > 58 ? generateName[..58] : generateName) + RandomSuffix();
                    if (Find(type, ns, name) is null)
                    {
                        break;
                    }

                    if (attempt >= 8)
                    {
                        throw StatusErrors.AlreadyExists(type, name, false);
                    }
                }

                meta["name"] = name;
            }
            else if (Find(type, MetadataRules.Str(meta["namespace"]), name) is { } existing)
            {
                throw StatusErrors.AlreadyExists(type, name, existing.Node["metadata"]?["deletionTimestamp"] is not null);
            }

            var now = Now();
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = now;
            if (type.HasGeneration)
            {
                meta["generation"] = 1;
            }

            if (type.Plural == "namespaces" && type.Group.Length == 0)
            {
                obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
                obj["status"] = new JsonObject { ["phase"] = "Active" };
            }

            if (IsCrd(type))
            {
                AddFinalizer(meta, CrdDefinition.CleanupFinalizer);
                CrdDefinition.WriteStatus(obj, now);
            }

            if (options.DryRun)
            {
                return new WriteResult(201, Rendered(obj, type), warnings);
            }

            var stored = Commit(type, obj, "ADDED", null);
            if (IsCrd(type))
            {
                Registry.SetCustomTypes(name, CrdDefinition.Types(stored.Clone()));
            }

            var rendered = Render(stored, type);
            if (meta["ownerReferences"] is JsonArray { Count: > 0 })
            {
                // A new dependent's owners "changed" too (docs/kubernetes-api.md §5): made for an owner that is already gone
                // (e.g. by a controller reading a stale cache), it is collected right after its ADDED.
                RunGarbageCollector();
            }

            return new WriteResult(201, rendered, warnings);
        }
    }

    public WriteResult Update(ResourceType type, string? ns, string name, string? subresource, Func<JsonObject, JsonObject> produce, WriteOptions options, UpdateKind kind)
    {
        var warnings = new List<string>();
        lock (_gate)
        {
            var stored = Find(type, ns, name);
            if (stored is null)
            {
                if (kind == UpdateKind.Apply && subresource is null)
                {
                    var skeleton = new JsonObject { ["apiVersion"] = type.ApiVersion, ["kind"] = type.Kind, ["metadata"] = new JsonObject { ["name"] = name } };
                    var created = produce(skeleton);
                    RecordManager(created, options.FieldManager, null, options.AppliedFields);
                    Meta(created)["name"] ??= name;
                    return Create(type, ns, created, options);
                }

                throw StatusErrors.NotFound(type, name);
            }

            var current = stored.Clone();
            current["apiVersion"] = type.ApiVersion;
            var incoming = produce(current);
            CheckApiVersionAndKind(type, incoming);
            var meta = Meta(incoming);
            var bodyName = MetadataRules.Str(meta["name"]);
            if (string.IsNullOrEmpty(bodyName))
            {
                meta["name"] = name;
            }
            else if (bodyName != name)
            {
                throw StatusErrors.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            }

            NormaliseNamespace(type, ns, meta);
            var storedMeta = stored.Node["metadata"]!.AsObject();
            var rv = MetadataRules.Str(meta["resourceVersion"]);
            if (!string.IsNullOrEmpty(rv) && rv != stored.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw StatusErrors.Conflict(type, name);
            }

            if (string.IsNullOrEmpty(rv) && kind == UpdateKind.Put && type.IsCustom)
            {
                throw StatusErrors.Invalid(type, name, [StatusErrors.InvalidValue("metadata.resourceVersion", 0, "must be specified for an update")]);
            }

            var uid = MetadataRules.Str(meta["uid"]);
            if (!string.IsNullOrEmpty(uid) && uid != stored.Uid)
            {
                throw StatusErrors.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {stored.Uid}");
            }

            JsonObject result;
            if (subresource == "status")
            {
                result = stored.Clone();
                result["apiVersion"] = type.ApiVersion;
                var status = incoming["status"]?.DeepClone();
                result.Remove("status");
                if (status is not null)
                {
                    result["status"] = status;
                }
            }
            else
            {
                result = incoming;
                if (type.HasStatusSubresource)
                {
                    result.Remove("status");
                    if (stored.Node["status"] is JsonNode storedStatus)
                    {
                        result["status"] = storedStatus.DeepClone();
                    }
                }

                foreach (var key in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation" })
                {
                    meta.Remove(key);
                    if (storedMeta[key] is JsonNode keep)
                    {
                        meta[key] = keep.DeepClone();
                    }
                }

                if (!meta.ContainsKey("managedFields") && storedMeta["managedFields"] is JsonNode managed)
                {
                    meta["managedFields"] = managed.DeepClone();
                }

                if (IsNamespace(type))
                {
                    result["spec"] = stored.Node["spec"]?.DeepClone();
                }
            }

            if (kind == UpdateKind.Apply)
            {
                RecordManager(result, options.FieldManager, subresource, options.AppliedFields);
            }

            PrepareBody(type, result, options, warnings);
            var errors = MetadataRules.Validate(type, result);
            var deleting = storedMeta["deletionTimestamp"] is not null;
            if (deleting)
            {
                var oldFinalizers = MetadataRules.Finalizers(stored.Node);
                var added = MetadataRules.Finalizers(result).Where(f => !oldFinalizers.Contains(f)).ToList();
                if (added.Count > 0)
                {
                    errors.Add(StatusErrors.ForbiddenField("metadata.finalizers",
                        $"no new finalizers can be added if the object is being deleted, found new finalizers []string{{{string.Join(", ", added.Select(a => $"\"{a}\""))}}}"));
                }
            }

            if (errors.Count > 0)
            {
                throw StatusErrors.Invalid(type, name, errors);
            }

            var resultMeta = Meta(result);
            resultMeta["resourceVersion"] = stored.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            if (type.HasGeneration && subresource != "status" && SpecChanged(stored.Node, result))
            {
                resultMeta["generation"] = (storedMeta["generation"]?.GetValue<long>() ?? 0) + 1;
            }

            if (IsCrd(type))
            {
                CrdDefinition.WriteStatus(result, Now());
            }

            if (JsonNode.DeepEquals(Normalised(stored.Node, type), Normalised(result, type)))
            {
                return new WriteResult(200, Render(stored, type), warnings);
            }

            if (options.DryRun)
            {
                return new WriteResult(200, Rendered(result, type), warnings);
            }

            if (deleting && MetadataRules.Finalizers(result).Count == 0 && !IsNamespace(type))
            {
                var body = Rendered(result, type);
                Remove(stored, result);
                RunGarbageCollector();
                return new WriteResult(200, body, warnings);
            }

            var committed = Commit(type, result, "MODIFIED", stored);
            AfterModify(stored, committed);
            return new WriteResult(200, Render(committed, type), warnings);
        }
    }

    public JsonObject Delete(ResourceType type, string? ns, string name, DeleteOptions options)
    {
        lock (_gate)
        {
            var stored = Find(type, ns, name) ?? throw StatusErrors.NotFound(type, name);
            if (options.PreconditionUid is { Length: > 0 } pu && pu != stored.Uid)
            {
                throw StatusErrors.Conflict(type, name,
                    $"the UID in the precondition ({pu}) does not match the UID in record ({stored.Uid}). The object might have been deleted and then recreated");
            }

            var current = stored.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            if (options.PreconditionResourceVersion is { Length: > 0 } prv && prv != current)
            {
                throw StatusErrors.Conflict(type, name,
                    $"the ResourceVersion in the precondition ({prv}) does not match the ResourceVersion in record ({current}). The object might have been modified");
            }

            if (IsNamespace(type) && s_protectedNamespaces.Contains(name))
            {
                throw StatusErrors.Forbidden(type, name, "this namespace may not be deleted");
            }

            if (options.DryRun)
            {
                return Render(stored, type);
            }

            var result = DeleteInternal(stored, options.PropagationPolicy);
            RunGarbageCollector();
            if (result is null)
            {
                return StatusErrors.Success(type, name, stored.Uid);
            }

            return Find(type, ns, name) is { } marked ? Render(marked, type) : Rendered(result, type);
        }
    }

    public List<JsonObject> DeleteCollection(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, DeleteOptions options)
    {
        lock (_gate)
        {
            var matching = Store(type.StorageKey).Values
                .Where(o => (ns is null || o.Namespace == ns) && labels.Matches(o.Node["metadata"]?["labels"] as JsonObject) && fields.Matches(o.Node))
                .ToList();
            var affected = new List<JsonObject>();
            foreach (var obj in matching)
            {
                if (IsNamespace(type) && s_protectedNamespaces.Contains(obj.Name))
                {
                    continue;
                }

                if (options.DryRun)
                {
                    affected.Add(Render(obj, type));
                    continue;
                }

                var marked = DeleteInternal(obj, options.PropagationPolicy);
                affected.Add(marked is null ? Render(obj, type) : Rendered(marked, type));
            }

            RunGarbageCollector();
            return affected;
        }
    }

    /// <summary>
    /// Opens a watch and queues its initial frames. Null resourceVersion or "0": synthetic ADDED for
    /// current objects; a specific one: history replay, or an error Status when it is too old.
    /// </summary>
    public (Watcher Watcher, JsonObject? Error) OpenWatch(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, long? fromRv, bool? sendInitialEvents)
    {
        var watcher = new Watcher(type, ns, labels, fields, _watchBufferCapacity);
        lock (_gate)
        {
            if (sendInitialEvents == true || (fromRv is null or 0 && sendInitialEvents != false))
            {
                foreach (var obj in Store(type.StorageKey).Values)
                {
                    if (watcher.Matches(obj))
                    {
                        watcher.Offer(new WatchFrame("ADDED", obj, obj.ResourceVersion));
                    }
                }

                if (sendInitialEvents == true)
                {
                    watcher.Offer(new WatchFrame("BOOKMARK", null, _rv, InitialEventsEnd: true));
                }
            }
            else if (fromRv is { } from && from > 0)
            {
                if (from < _compactedRv)
                {
                    var error = StatusErrors.Status(410, "Expired", string.Create(CultureInfo.InvariantCulture, $"too old resource version: {from} ({_compactedRv + 1})"));
                    return (watcher, error);
                }

                for (var i = 0; i < _historyCount; i++)
                {
                    var ev = _history[(_historyStart + i) % _history.Length]!;
                    if (ev.ResourceVersion > from && ev.StorageKey == type.StorageKey && Transition(watcher, ev) is { } frame)
                    {
                        watcher.Offer(frame);
                    }
                }
            }

            _watchers.Add(watcher);
            return (watcher, null);
        }
    }

    /// <summary>
    /// The resourceVersion a bookmark may carry now: the current one if nothing is queued for this
    /// watcher (offers happen under the same lock, so nothing older is in flight), else null.
    /// </summary>
    public long? BookmarkResourceVersion(Watcher watcher)
    {
        lock (_gate)
        {
            return watcher.Reader.Count == 0 ? _rv : null;
        }
    }

    public void CloseWatch(Watcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }

        watcher.Close();
    }

    public void DropWatches()
    {
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Drop();
            }

            _watchers.Clear();
        }
    }

    /// <summary>Renders an object for a route: the stored JSON with apiVersion set to the route's.</summary>
    public static JsonObject Render(StoredObject obj, ResourceType type)
    {
        var node = obj.Clone();
        node["apiVersion"] = type.ApiVersion;
        return node;
    }

    /// <summary>The bytes to send for a route; no copy when the stored apiVersion already matches.</summary>
    public static byte[] RenderBytes(StoredObject obj, ResourceType type)
    {
        if (obj.ApiVersion == type.ApiVersion)
        {
            return obj.Json;
        }

        var node = obj.Clone();
        node["apiVersion"] = type.ApiVersion;
        return JsonSerializer.SerializeToUtf8Bytes(node);
    }

    private static JsonObject Rendered(JsonObject obj, ResourceType type)
    {
        var node = (JsonObject)obj.DeepClone();
        node["apiVersion"] = type.ApiVersion;
        return node;
    }

    private static JsonObject Meta(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject meta)
        {
            meta = [];
            obj["metadata"] = meta;
        }

        return meta;
    }

    private static bool IsCrd(ResourceType type) => type.StorageKey == CrdKey;

    private static bool IsNamespace(ResourceType type) => type.StorageKey == NamespacesKey;

    private static void AddFinalizer(JsonObject meta, string finalizer)
    {
        if (meta["finalizers"] is not JsonArray list)
        {
            list = [];
            meta["finalizers"] = list;
        }

        if (!list.Any(f => MetadataRules.Str(f) == finalizer))
        {
            list.Add(finalizer);
        }
    }

    private static void CheckApiVersionAndKind(ResourceType type, JsonObject obj)
    {
        var apiVersion = MetadataRules.Str(obj["apiVersion"]);
        if (string.IsNullOrEmpty(apiVersion))
        {
            obj["apiVersion"] = type.ApiVersion;
        }
        else if (apiVersion != type.ApiVersion)
        {
            throw StatusErrors.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        }

        var kind = MetadataRules.Str(obj["kind"]);
        if (string.IsNullOrEmpty(kind))
        {
            obj["kind"] = type.Kind;
        }
        else if (kind != type.Kind)
        {
            throw StatusErrors.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
        }
    }

    private static void NormaliseNamespace(ResourceType type, string? ns, JsonObject meta)
    {
        var bodyNs = MetadataRules.Str(meta["namespace"]);
        if (!type.Namespaced)
        {
            meta.Remove("namespace");
            return;
        }

        if (string.IsNullOrEmpty(bodyNs))
        {
            meta["namespace"] = ns;
        }
        else if (bodyNs != ns)
        {
            throw StatusErrors.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    /// <summary>CRs: prune, default, validate against the schema; CRDs: defaults and docs/kubernetes-api.md §6.1 validation.</summary>
    private static void PrepareBody(ResourceType type, JsonObject obj, WriteOptions options, List<string> warnings)
    {
        var name = MetadataRules.Str(obj["metadata"]?["name"]) ?? MetadataRules.Str(obj["metadata"]?["generateName"]) ?? "";
        if (type.IsCustom && type.Schema is { } schema)
        {
            var unknown = CrdSchema.Prune(obj, schema);
            if (unknown.Count > 0 && options.FieldValidation == "Strict")
            {
                var list = unknown.Count == 1 ? $"unknown field \"{unknown[0]}\"" : string.Join(", ", unknown.Select(u => $"unknown field \"{u}\""));
                throw StatusErrors.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: strict decoding error: {list}");
            }

            if (options.FieldValidation == "Warn")
            {
                warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
            }

            CrdSchema.Default(obj, schema);
            var errors = CrdSchema.Validate(obj, schema);
            if (errors.Count > 0)
            {
                throw StatusErrors.Invalid(type, name, errors);
            }
        }
        else if (IsCrd(type))
        {
            CrdDefinition.ApplyDefaults(obj);
            var errors = CrdDefinition.Validate(obj);
            if (errors.Count > 0)
            {
                throw StatusErrors.Invalid(type, name, errors);
            }
        }
    }

    /// <summary>Whether anything outside metadata (and status, with a status subresource) changed.</summary>
    private static bool SpecChanged(JsonObject before, JsonObject after)
    {
        foreach (var key in before.Select(kv => kv.Key).Union(after.Select(kv => kv.Key)))
        {
            if (key is "metadata" or "apiVersion" or "kind")
            {
                continue;
            }

            if (!JsonNode.DeepEquals(before[key], after[key]))
            {
                return true;
            }
        }

        return false;
    }

    private static JsonObject Normalised(JsonObject obj, ResourceType type)
    {
        var copy = (JsonObject)obj.DeepClone();
        copy["apiVersion"] = type.ApiVersion;
        return copy;
    }

    private static void RecordManager(JsonObject obj, string? manager, string? subresource, JsonObject? fields)
    {
        var meta = Meta(obj);
        if (meta["managedFields"] is not JsonArray list)
        {
            list = [];
            meta["managedFields"] = list;
        }

        foreach (var entry in list.OfType<JsonObject>().Where(e => MetadataRules.Str(e["manager"]) == manager && MetadataRules.Str(e["operation"]) == "Apply").ToList())
        {
            list.Remove(entry);
        }

        var item = new JsonObject
        {
            ["manager"] = manager,
            ["operation"] = "Apply",
            ["apiVersion"] = obj["apiVersion"]?.DeepClone(),
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = fields?.DeepClone() ?? new JsonObject(),
        };
        if (subresource is not null)
        {
            item["subresource"] = subresource;
        }

        list.Add(item);
    }

    private static string EncodeContinue(long rv, string key) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["rv"] = rv, ["start"] = key }));

    private static (long Rv, string Key) DecodeContinue(string token)
    {
        try
        {
            var node = JsonNode.Parse(Convert.FromBase64String(token))!;
            return (node["rv"]!.GetValue<long>(), node["start"]!.GetValue<string>());
        }
        catch (Exception e) when (e is FormatException or JsonException or NullReferenceException or InvalidOperationException)
        {
            throw StatusErrors.BadRequest($"continue key is not valid: {e.Message}");
        }
    }

    private static string RandomSuffix()
    {
        Span<char> chars = stackalloc char[5];
        for (var i = 0; i < chars.Length; i++)
        {
#pragma warning disable CA5394 // generated names need uniqueness, not unpredictability
            chars[i] = GenerateNameAlphabet[Random.Shared.Next(GenerateNameAlphabet.Length)];
#pragma warning restore CA5394
        }

        return new string(chars);
    }

    private string Now() => MetadataRules.Timestamp(_time.GetUtcNow());

    private SortedDictionary<string, StoredObject> Store(string key)
    {
        if (!_stores.TryGetValue(key, out var store))
        {
            store = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            _stores[key] = store;
        }

        return store;
    }

    private StoredObject? Find(ResourceType type, string? ns, string name) =>
        Store(type.StorageKey).TryGetValue(type.Namespaced ? $"{ns}/{name}" : name, out var obj) ? obj : null;

    private void CheckNamespaceOpen(ResourceType type, JsonObject meta, string name)
    {
        var ns = MetadataRules.Str(meta["namespace"]) ?? "";
        if (!Store(NamespacesKey).TryGetValue(ns, out var nsObj))
        {
            throw StatusErrors.NotFound("namespaces", ns);
        }

        if (nsObj.Node["metadata"]?["deletionTimestamp"] is not null)
        {
            throw StatusErrors.Forbidden(type, name, $"unable to create new content in namespace {ns} because it is being terminated");
        }
    }
}
