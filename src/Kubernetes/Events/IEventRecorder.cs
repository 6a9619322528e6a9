using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Events;

/// <summary>Writes core/v1 Events about an object (what <c>kubectl describe</c> shows).</summary>
public interface IEventRecorder
{
    /// <summary>
    /// Records an event. Repeats of the same type/reason/message about the same object within the
    /// aggregation window bump <c>count</c> and <c>lastTimestamp</c> of the existing Event. Failures
    /// are logged, not thrown: an event is never worth failing a reconcile for.
    /// </summary>
    Task RecordAsync(IKubernetesObject<V1ObjectMeta> involvedObject, string type, string reason, string message, CancellationToken cancellationToken = default);
}
