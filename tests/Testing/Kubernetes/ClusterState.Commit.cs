using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Commit, history, watch fan-out, deletion and garbage collection (all under the lock).</summary>
internal sealed partial class ClusterState
{
    private StoredObject Commit(ResourceType type, JsonObject obj, string eventType, StoredObject? old)
    {
        var rv = ++_rv;
        var meta = Meta(obj);
        meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var name = MetadataRules.Str(meta["name"])!;
        var ns = type.Namespaced ? MetadataRules.Str(meta["namespace"]) : null;
        var uid = MetadataRules.Str(meta["uid"])!;
        // Re-parsed from its bytes so the stored node is private and uniformly JsonElement-backed.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(obj);
        var stored = new StoredObject(type.StorageKey, ns, name, uid, rv, JsonNode.Parse(bytes)!.AsObject(), bytes);
        var store = Store(type.StorageKey);
        if (eventType == "DELETED")
        {
            store.Remove(stored.Key);
            _byUid.Remove(uid);
        }
        else
        {
            store[stored.Key] = stored;
            _byUid[uid] = stored;
        }

        var ev = new WatchEvent(rv, type.StorageKey, eventType, old, stored);
        AddHistory(ev);
        Notify(ev);
        return stored;
    }

    private void AddHistory(WatchEvent ev)
    {
        if (_historyCount == _history.Length)
        {
            _compactedRv = _history[_historyStart]!.ResourceVersion;
            _history[_historyStart] = null;
            _historyStart = (_historyStart + 1) % _history.Length;
            _historyCount--;
        }

        _history[(_historyStart + _historyCount) % _history.Length] = ev;
        _historyCount++;
    }

    private void Notify(WatchEvent ev)
    {
        List<Watcher>? slow = null;
        foreach (var w in _watchers)
        {
            if (w.Type.StorageKey != ev.StorageKey)
            {
                continue;
            }

            if (Transition(w, ev) is { } frame && !w.Offer(frame))
            {
                (slow ??= []).Add(w);
            }
        }

        if (slow is not null)
        {
            foreach (var w in slow)
            {
                _watchers.Remove(w);
            }
        }
    }

    /// <summary>
    /// The frame a watcher gets for an event, honouring selector transitions: entering the filter is
    /// ADDED, leaving it is DELETED carrying the previous content stamped with the new resourceVersion.
    /// </summary>
    private static WatchFrame? Transition(Watcher w, WatchEvent ev)
    {
        if (ev.Type == "DELETED")
        {
            return w.Matches(ev.New) ? new WatchFrame("DELETED", ev.New, ev.ResourceVersion) : null;
        }

        var newMatch = w.Matches(ev.New);
        var oldMatch = ev.Old is not null && w.Matches(ev.Old);
        if (newMatch)
        {
            return new WatchFrame(oldMatch ? ev.Type : "ADDED", ev.New, ev.ResourceVersion);
        }

        if (oldMatch)
        {
            var previous = ev.Old!.Clone();
            previous["metadata"]!["resourceVersion"] = ev.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            var bytes = JsonSerializer.SerializeToUtf8Bytes(previous);
            var stamped = new StoredObject(ev.Old.StorageKey, ev.Old.Namespace, ev.Old.Name, ev.Old.Uid, ev.ResourceVersion, JsonNode.Parse(bytes)!.AsObject(), bytes);
            return new WatchFrame("DELETED", stamped, ev.ResourceVersion);
        }

        return null;
    }

    /// <summary>Removes an object for good (DELETED), with its CRD/namespace side effects.</summary>
    private void Remove(StoredObject stored, JsonObject? lastState = null)
    {
        var type = Registry.FindByStorageKey(stored.StorageKey) ?? TypeOf(stored);
        var last = lastState is null ? stored.Clone() : (JsonObject)lastState.DeepClone();
        Commit(type, last, "DELETED", stored);
        if (IsCrd(type))
        {
            var crd = stored.Node;
            var key = $"{crd["spec"]?["group"]?.GetValue<string>()}/{crd["spec"]?["names"]?["plural"]?.GetValue<string>()}";
            _stores.Remove(key);
            Registry.SetCustomTypes(stored.Name, []);
            foreach (var w in _watchers.Where(w => w.Type.StorageKey == key).ToList())
            {
                w.Close();
                _watchers.Remove(w);
            }
        }
    }

    private void AfterModify(StoredObject before, StoredObject after)
    {
        if (IsCrd(Registry.FindByStorageKey(after.StorageKey)!))
        {
            Registry.SetCustomTypes(after.Name, CrdDefinition.Types(after.Clone()));
        }

        if (!JsonNode.DeepEquals(before.Node["metadata"]?["finalizers"], after.Node["metadata"]?["finalizers"])
            || !JsonNode.DeepEquals(before.Node["metadata"]?["ownerReferences"], after.Node["metadata"]?["ownerReferences"]))
        {
            RunGarbageCollector();
        }
    }

    /// <summary>
    /// Deletes one object: marks it (deletionTimestamp) when finalizers remain, else removes it.
    /// Returns the marked object, or null when it was removed.
    /// </summary>
    private JsonObject? DeleteInternal(StoredObject stored, string? policy)
    {
        var type = Registry.FindByStorageKey(stored.StorageKey) ?? TypeOf(stored);
        var obj = stored.Clone();
        var meta = Meta(obj);
        if (meta["deletionTimestamp"] is not null)
        {
            return obj;
        }

        var finalizers = MetadataRules.Finalizers(obj);
        if (policy == "Foreground" && !finalizers.Contains(ForegroundFinalizer))
        {
            RemoveFinalizerFrom(meta, OrphanFinalizer);
            AddFinalizer(meta, ForegroundFinalizer);
        }
        else if (policy == "Orphan" && !finalizers.Contains(OrphanFinalizer))
        {
            RemoveFinalizerFrom(meta, ForegroundFinalizer);
            AddFinalizer(meta, OrphanFinalizer);
        }

        if (MetadataRules.Finalizers(obj).Count == 0 && !IsNamespace(type))
        {
            Remove(stored);
            return null;
        }

        meta["deletionTimestamp"] = Now();
        meta["deletionGracePeriodSeconds"] = 0;
        if (type.HasGeneration)
        {
            meta["generation"] = (meta["generation"]?.GetValue<long>() ?? 0) + 1;
        }

        if (IsNamespace(type))
        {
            obj["status"] = new JsonObject { ["phase"] = "Terminating" };
        }

        var committed = Commit(type, obj, "MODIFIED", stored);
        if (IsCrd(type))
        {
            Registry.SetCustomTypes(committed.Name, CrdDefinition.Types(committed.Clone()));
        }

        return committed.Clone();
    }

    private static void RemoveFinalizerFrom(JsonObject meta, string finalizer)
    {
        if (meta["finalizers"] is JsonArray list)
        {
            foreach (var f in list.Where(f => MetadataRules.Str(f) == finalizer).ToList())
            {
                list.Remove(f);
            }

            if (list.Count == 0)
            {
                meta.Remove("finalizers");
            }
        }
    }

    /// <summary>Rewrites an object through <paramref name="mutate"/>; removes it when a deletion has no finalizers left.</summary>
    private void Mutate(StoredObject stored, Action<JsonObject> mutate)
    {
        var type = Registry.FindByStorageKey(stored.StorageKey) ?? TypeOf(stored);
        var obj = stored.Clone();
        mutate(obj);
        var deleting = obj["metadata"]?["deletionTimestamp"] is not null;
        if (deleting && MetadataRules.Finalizers(obj).Count == 0 && !(IsNamespace(type) && NamespaceHasSpecFinalizer(obj)))
        {
            Remove(stored, obj);
            return;
        }

        Commit(type, obj, "MODIFIED", stored);
    }

    private static bool NamespaceHasSpecFinalizer(JsonObject ns) => ns["spec"]?["finalizers"] is JsonArray { Count: > 0 };

    private ResourceType TypeOf(StoredObject stored) =>
        Registry.All.FirstOrDefault(t => t.StorageKey == stored.StorageKey) ?? throw new InvalidOperationException($"no type for {stored.StorageKey}");

    /// <summary>
    /// The garbage collector of docs/kubernetes-api.md §5, run to a fixed point: namespace and CRD cleanup, orphan and
    /// foreground finalizers, then dependents whose owners are gone (matched by uid).
    /// </summary>
    private void RunGarbageCollector()
    {
        for (var round = 0; round < 1000; round++)
        {
            if (!GarbageCollectOnce())
            {
                return;
            }
        }
    }

    private bool GarbageCollectOnce()
    {
        var changed = false;
        var all = _stores.Values.SelectMany(s => s.Values).ToList();
        foreach (var obj in all.Where(o => o.Node["metadata"]?["deletionTimestamp"] is not null))
        {
            if (Current(obj) is not { } current)
            {
                continue;
            }

            var finalizers = MetadataRules.Finalizers(current.Node);
            if (current.StorageKey == NamespacesKey)
            {
                var contents = _stores.Values.SelectMany(s => s.Values).Where(o => o.Namespace == current.Name).ToList();
                foreach (var item in contents.Where(o => o.Node["metadata"]?["deletionTimestamp"] is null))
                {
                    DeleteInternal(item, null);
                    changed = true;
                }

                if (!_stores.Values.SelectMany(s => s.Values).Any(o => o.Namespace == current.Name) && NamespaceHasSpecFinalizer(current.Node))
                {
                    Mutate(Current(current)!, o => o["spec"]!["finalizers"] = new JsonArray());
                    changed = true;
                }

                continue;
            }

            if (current.StorageKey == CrdKey && finalizers.Contains(CrdDefinition.CleanupFinalizer))
            {
                var key = $"{current.Node["spec"]?["group"]?.GetValue<string>()}/{current.Node["spec"]?["names"]?["plural"]?.GetValue<string>()}";
                var crs = Store(key).Values.ToList();
                foreach (var cr in crs.Where(o => o.Node["metadata"]?["deletionTimestamp"] is null))
                {
                    DeleteInternal(cr, null);
                    changed = true;
                }

                if (Store(key).Count == 0)
                {
                    Mutate(Current(current)!, o => RemoveFinalizerFrom(Meta(o), CrdDefinition.CleanupFinalizer));
                    changed = true;
                }

                continue;
            }

            if (finalizers.Contains(OrphanFinalizer))
            {
                foreach (var dep in Dependents(current.Uid))
                {
                    Mutate(dep, o => RemoveOwnerRefs(o, r => r == current.Uid));
                }

                Mutate(Current(current)!, o => RemoveFinalizerFrom(Meta(o), OrphanFinalizer));
                changed = true;
                continue;
            }

            if (finalizers.Contains(ForegroundFinalizer))
            {
                foreach (var dep in Dependents(current.Uid).Where(d => d.Node["metadata"]?["deletionTimestamp"] is null))
                {
                    DeleteInternal(dep, Dependents(dep.Uid).Count > 0 ? "Foreground" : "Background");
                    changed = true;
                }

                var blocking = Dependents(current.Uid).Any(d => (d.Node["metadata"]?["ownerReferences"] as JsonArray)!.OfType<JsonObject>()
                    .Any(r => MetadataRules.Str(r["uid"]) == current.Uid && r["blockOwnerDeletion"]?.GetValueKind() == JsonValueKind.True));
                if (!blocking && Current(current) is { } owner)
                {
                    Mutate(owner, o => RemoveFinalizerFrom(Meta(o), ForegroundFinalizer));
                    changed = true;
                }
            }
        }

        foreach (var obj in all)
        {
            if (Current(obj) is not { } current || current.Node["metadata"]?["ownerReferences"] is not JsonArray { Count: > 0 } refs)
            {
                continue;
            }

            var absent = new HashSet<string>(StringComparer.Ordinal);
            var waiting = new HashSet<string>(StringComparer.Ordinal);
            var solid = 0;
            foreach (var r in refs.OfType<JsonObject>())
            {
                var uid = MetadataRules.Str(r["uid"]) ?? "";
                if (!_byUid.TryGetValue(uid, out var owner) || (owner.Namespace is not null && owner.Namespace != current.Namespace))
                {
                    absent.Add(uid);
                }
                else if (owner.Node["metadata"]?["deletionTimestamp"] is not null && MetadataRules.Finalizers(owner.Node).Contains(ForegroundFinalizer))
                {
                    waiting.Add(uid);
                }
                else
                {
                    solid++;
                }
            }

            if (solid > 0)
            {
                if (absent.Count + waiting.Count > 0)
                {
                    Mutate(current, o => RemoveOwnerRefs(o, u => absent.Contains(u) || waiting.Contains(u)));
                    changed = true;
                }
            }
            else if (current.Node["metadata"]?["deletionTimestamp"] is null)
            {
                var policy = waiting.Count > 0 && Dependents(current.Uid).Count > 0 ? "Foreground" : null;
                DeleteInternal(current, policy);
                changed = true;
            }
        }

        return changed;
    }

    private StoredObject? Current(StoredObject obj) =>
        _stores.TryGetValue(obj.StorageKey, out var store) && store.TryGetValue(obj.Key, out var current) ? current : null;

    private List<StoredObject> Dependents(string ownerUid) =>
        _stores.Values.SelectMany(s => s.Values)
            .Where(o => o.Node["metadata"]?["ownerReferences"] is JsonArray refs && refs.OfType<JsonObject>().Any(r => MetadataRules.Str(r["uid"]) == ownerUid))
            .ToList();

    private static void RemoveOwnerRefs(JsonObject obj, Func<string, bool> remove)
    {
        if (obj["metadata"]?["ownerReferences"] is not JsonArray refs)
        {
            return;
        }

        foreach (var r in refs.OfType<JsonObject>().Where(r => remove(MetadataRules.Str(r["uid"]) ?? "")).ToList())
        {
            refs.Remove(r);
        }

        if (refs.Count == 0)
        {
            obj["metadata"]!.AsObject().Remove("ownerReferences");
        }
    }
}
