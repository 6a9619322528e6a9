namespace ComfyOperator.Install.Tests;

/// <summary>One RBAC PolicyRule, with "*" wildcards honoured by <see cref="Allows"/>.</summary>
internal sealed record RbacRule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs)
{
    public bool Allows(string group, string resource, string verb) =>
        (ApiGroups.Contains(group) || ApiGroups.Contains("*"))
        && (Resources.Contains(resource) || Resources.Contains("*"))
        && (Verbs.Contains(verb) || Verbs.Contains("*"));

    public static IReadOnlyList<RbacRule> FromObject(IReadOnlyDictionary<string, object?> role) =>
        Tree.List(role, "rules")
            .Select(r => new RbacRule(Strings(r, "apiGroups"), Strings(r, "resources"), Strings(r, "verbs")))
            .ToList();

    /// <summary>Every (group, resource, verb) triple the rule grants, wildcards left as "*".</summary>
    public IEnumerable<(string Group, string Resource, string Verb)> Triples() =>
        from g in ApiGroups from r in Resources from v in Verbs select (g, r, v);

    private static List<string> Strings(object? node, string path) => Tree.List(node, path).Select(x => x?.ToString() ?? "").ToList();
}
