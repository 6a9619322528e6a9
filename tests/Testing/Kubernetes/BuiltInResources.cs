namespace ComfyOperator.Testing.Kubernetes;

/// <summary>The built-in kinds the emulator serves; all stored schemaless.</summary>
internal static class BuiltInResources
{
    private static readonly PrinterColumn s_age = new("Age", "date", null, "CreationTimestamp is a timestamp representing the server time when this object was created.", 0, ".metadata.creationTimestamp");

    public static IReadOnlyList<ResourceType> All { get; } =
    [
        Core("namespaces", "Namespace", namespaced: false, status: true, shortNames: ["ns"], nameIsLabel: true,
            columns: [new("Status", "string", null, "The status of the namespace", 0, ".status.phase"), s_age]),
        Core("pods", "Pod", status: true, shortNames: ["po"], categories: ["all"],
            columns: [new("Status", "string", null, "The phase of the pod", 0, ".status.phase"), s_age,
                new("IP", "string", null, "Pod IP", 1, ".status.podIP"), new("Node", "string", null, "Node name", 1, ".spec.nodeName")]),
        Core("services", "Service", status: true, shortNames: ["svc"], categories: ["all"], nameIsLabel: true,
            columns: [new("Type", "string", null, "Service type", 0, ".spec.type"), new("Cluster-IP", "string", null, "Cluster IP", 0, ".spec.clusterIP"), s_age]),
        Core("configmaps", "ConfigMap", shortNames: ["cm"]),
        Core("secrets", "Secret", columns: [new("Type", "string", null, "Secret type", 0, ".type"), s_age]),
        Core("persistentvolumeclaims", "PersistentVolumeClaim", status: true, shortNames: ["pvc"],
            columns: [new("Status", "string", null, "Claim phase", 0, ".status.phase"), new("Volume", "string", null, "Bound volume", 0, ".spec.volumeName"), s_age]),
        Core("serviceaccounts", "ServiceAccount", shortNames: ["sa"]),
        Core("events", "Event", shortNames: ["ev"], nameUnchecked: true, storageKey: "events",
            columns: [new("Type", "string", null, "Event type", 0, ".type"), new("Reason", "string", null, "Reason", 0, ".reason"),
                new("Object", "string", null, "Involved object", 0, ".involvedObject.name"), new("Message", "string", null, "Message", 0, ".message")]),
        Group("events.k8s.io", "v1", "events", "Event", shortNames: ["ev"], storageKey: "events"),
        Group("coordination.k8s.io", "v1", "leases", "Lease",
            columns: [new("Holder", "string", null, "Holder", 0, ".spec.holderIdentity"), s_age]),
        Group("batch", "v1", "jobs", "Job", status: true, generation: true, categories: ["all"],
            columns: [new("Status", "string", null, "Job condition", 0, ".status.conditions[?(@.status==\"True\")].type"), s_age]),
        Group("apps", "v1", "deployments", "Deployment", status: true, generation: true, shortNames: ["deploy"], categories: ["all"],
            scale: new ScaleSubresource(".spec.replicas", ".status.replicas", null),
            columns: [new("Ready", "integer", null, "Ready replicas", 0, ".status.readyReplicas"), new("Up-to-date", "integer", null, "Updated replicas", 0, ".status.updatedReplicas"),
                new("Available", "integer", null, "Available replicas", 0, ".status.availableReplicas"), s_age]),
        Group("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", status: true, generation: true, shortNames: ["pdb"],
            columns: [new("Min Available", "string", null, "The minimum number of pods that must be available", 0, ".spec.minAvailable"),
                new("Max Unavailable", "string", null, "The maximum number of pods that may be unavailable", 0, ".spec.maxUnavailable"),
                new("Allowed Disruptions", "integer", null, "Currently allowed disruptions", 0, ".status.disruptionsAllowed"), s_age]),
        Group("networking.k8s.io", "v1", "ingresses", "Ingress", status: true, generation: true, shortNames: ["ing"],
            columns: [new("Class", "string", null, "Ingress class", 0, ".spec.ingressClassName"), new("Hosts", "string", null, "Hosts", 0, ".spec.rules[*].host"),
                new("Address", "string", null, "Load balancer address", 0, ".status.loadBalancer.ingress[*].ip"), s_age]),
        Group("rbac.authorization.k8s.io", "v1", "roles", "Role"),
        Group("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
        Group("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced: false),
        Group("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced: false),
        Group("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false, status: true,
            generation: true, shortNames: ["crd", "crds"], columns: [new("Created At", "date", null, "Creation time", 0, ".metadata.creationTimestamp")]),
    ];

    public static PrinterColumn AgeColumn => s_age;

    private static ResourceType Core(string plural, string kind, bool namespaced = true, bool status = false, string[]? shortNames = null,
        string[]? categories = null, bool nameIsLabel = false, bool nameUnchecked = false, string? storageKey = null, PrinterColumn[]? columns = null) =>
        Group("", "v1", plural, kind, namespaced, status, generation: false, shortNames, categories, nameIsLabel, nameUnchecked, storageKey, null, columns);

    private static ResourceType Group(string group, string version, string plural, string kind, bool namespaced = true, bool status = false,
        bool generation = false, string[]? shortNames = null, string[]? categories = null, bool nameIsLabel = false, bool nameUnchecked = false,
        string? storageKey = null, ScaleSubresource? scale = null, PrinterColumn[]? columns = null) => new()
        {
            Group = group,
            Version = version,
            Plural = plural,
            Singular = kind.ToLowerInvariant(),
            Kind = kind,
            Namespaced = namespaced,
            HasStatusSubresource = status,
            HasGeneration = generation,
            ShortNames = shortNames ?? [],
            Categories = categories ?? [],
            NameIsLabel = nameIsLabel,
            NameUnchecked = nameUnchecked,
            StorageKey = storageKey ?? $"{group}/{plural}",
            Scale = scale,
            Columns = columns ?? [s_age],
        };
}
