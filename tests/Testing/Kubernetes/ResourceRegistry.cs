namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// The set of served resource types. Copy-on-write: writers (under the cluster lock) swap in a new
/// snapshot, readers never lock.
/// </summary>
internal sealed class ResourceRegistry
{
    private volatile Snapshot _snapshot;

    public ResourceRegistry()
    {
        _snapshot = new Snapshot(BuiltInResources.All, new Dictionary<string, IReadOnlyList<ResourceType>>());
    }

    public IReadOnlyList<ResourceType> All => _snapshot.Types;

    public ResourceType? Find(string group, string version, string plural)
    {
        foreach (var t in _snapshot.Types)
        {
            if (t.Plural == plural && t.Version == version && t.Group == group)
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>Any served version of a storage key; used to render objects for GC and namespaces.</summary>
    public ResourceType? FindByStorageKey(string storageKey)
    {
        foreach (var t in _snapshot.Types)
        {
            if (t.StorageKey == storageKey)
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>Groups in discovery order: core first, then built-in groups, then CRD groups.</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups()
    {
        var result = new List<(string, IReadOnlyList<string>)>();
        foreach (var t in _snapshot.Types)
        {
            if (t.Group.Length == 0 || result.Exists(g => g.Item1 == t.Group))
            {
                continue;
            }

            var versions = _snapshot.Types.Where(x => x.Group == t.Group).Select(x => x.Version).Distinct().ToList();
            result.Add((t.Group, versions));
        }

        return result;
    }

    /// <summary>Replaces the types a CRD serves (empty to remove them).</summary>
    public void SetCustomTypes(string crdName, IReadOnlyList<ResourceType> types)
    {
        var custom = new Dictionary<string, IReadOnlyList<ResourceType>>(_snapshot.Custom);
        if (types.Count == 0)
        {
            custom.Remove(crdName);
        }
        else
        {
            custom[crdName] = types;
        }

        var all = BuiltInResources.All.Concat(custom.OrderBy(c => c.Key, StringComparer.Ordinal).SelectMany(c => c.Value)).ToList();
        _snapshot = new Snapshot(all, custom);
    }

    private sealed record Snapshot(IReadOnlyList<ResourceType> Types, Dictionary<string, IReadOnlyList<ResourceType>> Custom);
}
