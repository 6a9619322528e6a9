using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Events;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Health;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Controllers;

/// <summary>
/// The status a node should have, from its previous status and what was just observed. Pure: the
/// controller decides whether to write (only when the result differs) and records the events.
/// </summary>
internal static class NodeStatusCalculator
{
    public static (ComfyNodeStatus Status, IReadOnlyList<NodeEvent> Events) Compute(ComfyNode node, NodeObservation observed, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(observed);
        var previous = node.Status;
        var status = Clone(previous);
        var generation = node.Metadata.Generation;
        var events = new List<NodeEvent>();
        status.Conditions ??= [];
        status.ObservedGeneration = generation;
        status.PodName = observed.PodName;
        status.Endpoint = observed.Endpoint;

        // Models.
        var (modelsStatus, modelsReason, modelsMessage) = observed.Models switch
        {
            ModelsState.NotDeclared => (ConditionStatus.True, ConditionReasons.NoModelsDeclared, "no models declared"),
            ModelsState.Synced => (ConditionStatus.True, ConditionReasons.ModelsSynced, $"{node.Spec.Models?.Count ?? 0} model file(s) in the cache"),
            ModelsState.Failed => (ConditionStatus.False, ConditionReasons.ModelsSyncFailed, observed.ModelsMessage ?? "model sync failed"),
            _ => (ConditionStatus.Unknown, ConditionReasons.ModelsSyncing, "model sync in progress"),
        };
        if (observed.Models == ModelsState.Failed && previous.Conditions.FindCondition(ConditionTypes.ModelsReady)?.Reason != ConditionReasons.ModelsSyncFailed)
        {
            events.Add(new NodeEvent(EventType.Warning, EventReasons.ModelsSyncFailed, modelsMessage));
        }

        status.Conditions.SetCondition(ConditionTypes.ModelsReady, modelsStatus, modelsReason, modelsMessage, generation, now);

        // Phase and health.
        var previousPhase = previous.Phase;
        string phase;
        string message;
        if (!observed.External && observed.Pod is PodState.Failed)
        {
            phase = ComfyNodePhase.Failed;
            message = observed.Models == ModelsState.Failed ? modelsMessage : observed.PodMessage ?? "the pod failed";
            status.ConsecutiveFailures = 0;
            status.QueueRemaining = null;
            status.Conditions.SetCondition(ConditionTypes.Healthy, ConditionStatus.False, ConditionReasons.PodFailed, message, generation, now);
        }
        else if (observed.Probe is null)
        {
            phase = ComfyNodePhase.Pending;
            message = observed.PodMessage ?? "waiting for the pod";
            status.ConsecutiveFailures = 0;
            status.QueueRemaining = null;
            status.Conditions.SetCondition(ConditionTypes.Healthy, ConditionStatus.Unknown, ConditionReasons.NotProbed, message, generation, now);
        }
        else if (observed.Probe.Succeeded)
        {
            var probe = observed.Probe;
            phase = probe.QueueRemaining > 0 ? ComfyNodePhase.Busy : ComfyNodePhase.Idle;
            message = probe.QueueRemaining > 0 ? $"{probe.QueueRemaining} prompt(s) queued or running" : "ready for work";
            status.ConsecutiveFailures = 0;
            status.QueueRemaining = probe.QueueRemaining;
            status.ComfyVersion = probe.ComfyVersion;
            status.Gpu = DeviceNames.Summary(probe.Devices);

            // VRAM free changes with every prompt; only a change in the device list itself is news.
            if (!SameDevices(status.Devices, probe.Devices))
            {
                status.Devices = [.. probe.Devices];
            }

            status.Conditions.SetCondition(ConditionTypes.Healthy, ConditionStatus.True, ConditionReasons.ProbeSucceeded, "ComfyUI answers /system_stats and /prompt", generation, now);
            if (previousPhase == ComfyNodePhase.Offline)
            {
                events.Add(new NodeEvent(EventType.Normal, EventReasons.NodeRecovered, $"ComfyUI at {observed.Endpoint} answers again"));
            }
        }
        else
        {
            // Counted up to the threshold only: an Offline node that stays down writes nothing more.
            var failures = Math.Min(previous.ConsecutiveFailures + 1, observed.FailureThreshold);
            status.ConsecutiveFailures = failures;
            var error = observed.Probe.Error ?? "probe failed";
            if (failures >= observed.FailureThreshold)
            {
                phase = ComfyNodePhase.Offline;
                message = $"{failures} probes in a row failed: {error}";
                status.Conditions.SetCondition(ConditionTypes.Healthy, ConditionStatus.False, ConditionReasons.ProbeFailed, error, generation, now);
                if (previousPhase != ComfyNodePhase.Offline)
                {
                    events.Add(new NodeEvent(EventType.Warning, EventReasons.NodeOffline, $"ComfyUI at {observed.Endpoint} stopped answering: {error}"));
                }
            }
            else if (previousPhase is ComfyNodePhase.Idle or ComfyNodePhase.Busy or ComfyNodePhase.Offline)
            {
                // One failed probe is not an outage: keep the phase until the threshold.
                phase = previousPhase;
                message = previous.Message ?? "";
            }
            else
            {
                phase = ComfyNodePhase.Starting;
                message = $"waiting for ComfyUI to answer: {error}";
                status.Conditions.SetCondition(ConditionTypes.Healthy, ConditionStatus.Unknown, ConditionReasons.ProbeFailed, error, generation, now);
            }
        }

        // Draining an outdated pod: the router reads the condition as a cordon; its transition time
        // is when the cordon began. A node that is not draining carries no such condition.
        if (observed.Draining)
        {
            status.Conditions.SetCondition(ConditionTypes.Draining, ConditionStatus.True, ConditionReasons.PodOutdated, "the pod spec changed: the worker finishes its prompts before the pod is replaced", generation, now);
        }
        else
        {
            status.Conditions.RemoveCondition(ConditionTypes.Draining);
        }

        status.Phase = phase;
        status.Message = message;
        var ready = phase is ComfyNodePhase.Idle or ComfyNodePhase.Busy && modelsStatus == ConditionStatus.True;
        status.Conditions.SetCondition(
            ConditionTypes.Ready,
            ready ? ConditionStatus.True : ConditionStatus.False,
            ready ? ConditionReasons.NodeReady : ConditionReasons.NodeNotReady,
            ready ? "the node takes work" : message,
            generation,
            now);
        return (status, events);
    }

    /// <summary>True when writing <paramref name="next"/> would change what readers see.</summary>
    public static bool Differs(ComfyNodeStatus previous, ComfyNodeStatus next) =>
        JsonText.Of(previous) != JsonText.Of(next);

    public static ComfyNodeStatus Clone(ComfyNodeStatus status) =>
        KubernetesJson.Deserialize<ComfyNodeStatus>(KubernetesJson.Serialize(status)) ?? new ComfyNodeStatus();

    private static bool SameDevices(IList<DeviceStatus>? current, IReadOnlyList<DeviceStatus> probed) =>
        current is not null && current.Count == probed.Count &&
        current.Zip(probed).All(pair => pair.First.Name == pair.Second.Name && pair.First.Type == pair.Second.Type &&
            pair.First.Index == pair.Second.Index && pair.First.VramTotal == pair.Second.VramTotal);
}
