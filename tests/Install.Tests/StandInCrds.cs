namespace ComfyOperator.Install.Tests;

/// <summary>
/// The Kubernetes API emulator (tests/Testing) serves the core, apps, batch, rbac, coordination and
/// apiextensions groups but not policy/v1 PodDisruptionBudget, networking.k8s.io/v1 Ingress, nor the
/// Prometheus operator's ServiceMonitor. These CRDs stand in for them, with a schema that keeps
/// every field, so kubectl can apply the chart's objects of those kinds; their fields are checked
/// by the render tests instead.
/// </summary>
internal static class StandInCrds
{
    public const string Yaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: poddisruptionbudgets.policy
        spec:
          group: policy
          names: {kind: PodDisruptionBudget, listKind: PodDisruptionBudgetList, plural: poddisruptionbudgets, singular: poddisruptionbudget, shortNames: [pdb]}
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: ingresses.networking.k8s.io
          annotations:
            api-approved.kubernetes.io: "stand-in for the built-in Ingress in tests"
        spec:
          group: networking.k8s.io
          names: {kind: Ingress, listKind: IngressList, plural: ingresses, singular: ingress, shortNames: [ing]}
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: servicemonitors.monitoring.coreos.com
        spec:
          group: monitoring.coreos.com
          names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor, shortNames: [smon]}
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """;
}
