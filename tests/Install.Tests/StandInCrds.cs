namespace ComfyOperator.Install.Tests;

/// <summary>
/// The Prometheus operator's ServiceMonitor CRD, as a cluster running it has: the chart's
/// ServiceMonitors need it. Its schema keeps every field; the render tests check those.
/// </summary>
internal static class StandInCrds
{
    public const string ServiceMonitor = """
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
