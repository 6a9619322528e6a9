namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Workflows are served by name (<c>/v1/workflows/{name}</c>), so WorkflowDeployments of the same
/// name in two watched namespaces cannot both be served, and picking one would depend on the order
/// the cluster listed them. Such a name is served as one Invalid workflow that says why (409 on
/// runs, the reason in <c>GET /v1/workflows/{name}</c>) until one is renamed or deleted.
/// </summary>
internal static class WorkflowNameClashes
{
    public static IReadOnlyList<WorkflowDefinition> Refuse(IEnumerable<WorkflowDefinition> definitions) =>
        [.. definitions
            .GroupBy(d => d.Name, StringComparer.Ordinal)
            .Select(group =>
            {
                var all = group.OrderBy(d => d.Namespace, StringComparer.Ordinal).ToList();
                if (all.Count == 1)
                {
                    return all[0];
                }

                var namespaces = string.Join(", ", all.Select(d => d.Namespace ?? "default"));
                return all[0] with
                {
                    Namespace = null,
                    Problems =
                    [
                        $"metadata.name: a WorkflowDeployment named '{group.Key}' exists in namespaces {namespaces}; workflows are served by name, so none of them is. "
                            + "Rename or delete all but one, or limit Router:Kubernetes:Namespaces.",
                    ],
                };
            })
            .OrderBy(d => d.Name, StringComparer.Ordinal)];
}
