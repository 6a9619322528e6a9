namespace ComfyOperator.Install.Tests;

/// <summary>The rendered RBAC grants the operator and the router what they use, in each mode.</summary>
public sealed class ChartRbacTests
{
    /// <summary>What the operator does (docs/architecture.md, issue 4): its pods, services, config maps and claims, events, its lease, its resources.</summary>
    private static readonly (string Group, string[] Resources, string[] Verbs)[] OperatorNeeds =
    [
        ("", ["pods", "services", "configmaps", "persistentvolumeclaims"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("", ["events"], ["create", "patch"]),
        ("comfyoperator.io", ["comfynodes", "workflowdeployments"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("comfyoperator.io", ["comfynodes/status", "workflowdeployments/status", "comfynodes/scale", "workflowdeployments/scale"], ["get", "update", "patch"]),
    ];

    private static readonly (string Group, string[] Resources, string[] Verbs) LeaseNeeds =
        ("coordination.k8s.io", ["leases"], ["get", "create", "update"]);

    private static readonly (string Group, string[] Resources, string[] Verbs)[] RouterNeeds =
    [
        ("comfyoperator.io", ["comfynodes", "workflowdeployments"], ["get", "list", "watch"]),
    ];

    [Fact]
    public async Task Rbac_ClusterWide_GrantsOperatorAndRouterEverywhere()
    {
        var manifests = await Helm.TemplateManifestsAsync();
        var operatorRules = Grants(manifests, "comfy-comfy-router-operator", "default", namespaceOfUse: "any-namespace");
        AssertCovers(operatorRules, OperatorNeeds, "operator (cluster-wide)");
        AssertCovers(Grants(manifests, "comfy-comfy-router-operator", "default", namespaceOfUse: "default"), [LeaseNeeds], "operator leader election");
        Assert.DoesNotContain(operatorRules, r => r.Allows("coordination.k8s.io", "leases", "create"));
        AssertCovers(Grants(manifests, "comfy-comfy-router", "default", namespaceOfUse: "any-namespace"), RouterNeeds, "router (cluster-wide)");
    }

    [Fact]
    public async Task Rbac_Namespaced_GrantsOnlyInWatchedNamespaces()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            rbac: {clusterWide: false}
            operator: {watchNamespaces: [team-a, team-b]}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        Assert.Empty(manifests.OfKind("ClusterRole"));
        Assert.Empty(manifests.OfKind("ClusterRoleBinding"));
        foreach (var ns in new[] { "team-a", "team-b" })
        {
            AssertCovers(Grants(manifests, "comfy-comfy-router-operator", "default", ns), OperatorNeeds, "operator in " + ns);
            AssertCovers(Grants(manifests, "comfy-comfy-router", "default", ns), RouterNeeds, "router in " + ns);
        }

        Assert.Empty(Grants(manifests, "comfy-comfy-router-operator", "default", "team-c"));
        AssertCovers(Grants(manifests, "comfy-comfy-router-operator", "default", "default"), [LeaseNeeds], "leader election");
        var args = Tree.List(manifests.Single("Deployment", "comfy-comfy-router-operator").Root, "spec.template.spec.containers.0.args");
        Assert.Contains("--namespace=team-a", args);
        Assert.Contains("--namespace=team-b", args);
    }

    [Fact]
    public async Task Rbac_NamespacedWithoutList_WatchesReleaseNamespaceOnly()
    {
        var result = await Helm.TemplateWithValuesAsync("rbac: {clusterWide: false}");
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        AssertCovers(Grants(manifests, "comfy-comfy-router-operator", "default", "default"), OperatorNeeds, "operator in the release namespace");
        Assert.All(manifests.OfKind("Role"), r => Assert.Equal("default", r.Namespace));
    }

    /// <summary>
    /// config/rbac (written with the operator) is what the operator really uses: the chart's rules
    /// must grant all of it, plus the needs listed above.
    /// </summary>
    [Fact]
    public async Task Rbac_OperatorRules_CoverConfigRbacAndKnownNeeds()
    {
        var manifests = await Helm.TemplateManifestsAsync();
        var granted = Grants(manifests, "comfy-comfy-router-operator", "default", "default");
        var needed = new List<(string Group, string[] Resources, string[] Verbs)>(OperatorNeeds) { LeaseNeeds };
        var rbacDir = RepoPaths.Combine("config", "rbac");
        if (Directory.Exists(rbacDir))
        {
            foreach (var file in Directory.GetFiles(rbacDir, "*.yaml"))
            {
                foreach (var doc in ManifestSet.Parse(await File.ReadAllTextAsync(file)).Items.Where(m => m.Kind is "ClusterRole" or "Role"))
                {
                    // config/rbac may hold the router's role too; only rules for the operator's role matter here.
                    if (doc.Name.Contains("router", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    needed.AddRange(RbacRule.FromObject(doc.Root).SelectMany(r => r.Triples()).Select(t => (t.Group, new[] { t.Resource }, new[] { t.Verb })));
                }
            }
        }

        AssertCovers(granted, needed, "operator");
    }

    private static void AssertCovers(IReadOnlyList<RbacRule> granted, IEnumerable<(string Group, string[] Resources, string[] Verbs)> needs, string who)
    {
        var missing = (from n in needs
                       from r in n.Resources
                       from v in n.Verbs
                       where !granted.Any(g => g.Allows(n.Group, r, v))
                       select $"{v} {(n.Group.Length == 0 ? "core" : n.Group)}/{r}").ToList();
        Assert.True(missing.Count == 0, $"{who} lacks: {string.Join(", ", missing)}");
    }

    /// <summary>Rules bound to a ServiceAccount that apply to objects in <paramref name="namespaceOfUse"/>.</summary>
    private static List<RbacRule> Grants(ManifestSet manifests, string serviceAccount, string serviceAccountNamespace, string namespaceOfUse)
    {
        bool BindsAccount(Manifest binding) => Tree.List(binding.Root, "subjects").Any(s =>
            Tree.Get(s, "kind") as string == "ServiceAccount"
            && Tree.Get(s, "name") as string == serviceAccount
            && Tree.Get(s, "namespace") as string == serviceAccountNamespace);

        var rules = new List<RbacRule>();
        foreach (var binding in manifests.OfKind("ClusterRoleBinding").Where(BindsAccount))
        {
            var role = manifests.Single("ClusterRole", (string)Tree.Get(binding.Root, "roleRef.name")!);
            rules.AddRange(RbacRule.FromObject(role.Root));
        }

        foreach (var binding in manifests.OfKind("RoleBinding").Where(b => b.Namespace == namespaceOfUse && BindsAccount(b)))
        {
            var refKind = (string)Tree.Get(binding.Root, "roleRef.kind")!;
            var refName = (string)Tree.Get(binding.Root, "roleRef.name")!;
            var role = refKind == "ClusterRole"
                ? manifests.Single("ClusterRole", refName)
                : manifests.OfKind("Role").Single(r => r.Name == refName && r.Namespace == namespaceOfUse);
            rules.AddRange(RbacRule.FromObject(role.Root));
        }

        return rules;
    }
}
