using System.Collections.Concurrent;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Events;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Health;
using ComfyOperator.Operator.Manifests;
using ComfyOperator.Operator.Reconciliation;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Controllers;

/// <summary>
/// Reconciles one ComfyNode: makes the pod, config map, service and cache claim of a managed node
/// match its spec (replacing the pod when the template hash changes), probes the endpoint, and
/// writes the status when, and only when, it changed. It is also the probe timer: every reconcile
/// asks to be run again after <c>probe.periodSeconds</c>. Every node carries the
/// <see cref="EntityFinalizers.Drain"/> finalizer: a deleted node (cordoned for the router by its
/// deletion) is let go once <see cref="NodeDrainer"/> finds it drained, or when its
/// <c>terminationGracePeriodSeconds</c> have passed since the deletion.
/// </summary>
internal sealed partial class ComfyNodeController(
    IKubernetes client,
    ResourceCache<ComfyNode> nodes,
    ResourceCache<V1Pod> pods,
    NodeProber prober,
    NodeDrainer drainer,
    IEventRecorder events,
    ManifestDefaults manifestDefaults,
    ProbeDefaults probeDefaults,
    TimeProvider time,
    ILogger<ComfyNodeController> logger)
{
    private static readonly TimeSpan PendingRecheck = TimeSpan.FromSeconds(2);

    /// <summary>How often a draining node is looked at again.</summary>
    internal static readonly TimeSpan DrainRecheck = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the config map, cache claim and service of an unchanged node are read back and
    /// repaired. Every reconcile is also a probe (every few seconds per node); reading three objects
    /// each time would cost 1,000 managed nodes hundreds of API reads per second for nothing. A spec
    /// change (new generation), a new node uid or an operator restart ensures them at once.
    /// </summary>
    internal static readonly TimeSpan OwnedObjectsResync = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, (int Restarts, DateTimeOffset NotBefore)> _restarts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string? Uid, long? Generation, DateTimeOffset At)> _ensured = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string?> _drainAnnounced = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, HashSet<string>> _deletedPods = new(StringComparer.Ordinal);
    private readonly CustomResourceClient<ComfyNode> _nodeClient = new(client);
    private long _statusWrites;

    /// <summary>Status writes made (each is one PUT to /status).</summary>
    public long StatusWrites => Interlocked.Read(ref _statusWrites);

    /// <summary>
    /// One of the node's config map, claim or service was deleted or edited by someone: the next
    /// reconcile checks them again instead of trusting the last check (at most every <see cref="OwnedObjectsResync"/>).
    /// </summary>
    public void OwnedObjectChanged(string key) => _ensured.TryRemove(key, out _);

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var node = nodes.Get(key);
        if (node is null)
        {
            _restarts.TryRemove(key, out _);
            _ensured.TryRemove(key, out _);
            _drainAnnounced.TryRemove(key, out _);
            _deletedPods.TryRemove(key, out _);
            return ReconcileResult.Success();
        }

        if (node.Metadata.DeletionTimestamp is not null)
        {
            // Owner references let the garbage collector remove the pod, config map and service once
            // the node is gone; until then it drains.
            _restarts.TryRemove(key, out _);
            _ensured.TryRemove(key, out _);
            return await DrainDeletedAsync(key, node, cancellationToken);
        }

        var period = TimeSpan.FromSeconds(node.Spec.Probe?.PeriodSeconds ?? probeDefaults.PeriodSeconds);
        var timeout = TimeSpan.FromSeconds(node.Spec.Probe?.TimeoutSeconds ?? probeDefaults.TimeoutSeconds);
        var threshold = node.Spec.Probe?.FailureThreshold ?? probeDefaults.FailureThreshold;
        try
        {
            if (node.Metadata.Finalizers?.Contains(EntityFinalizers.Drain) != true)
            {
                await SetFinalizersAsync(node, [.. node.Metadata.Finalizers ?? [], EntityFinalizers.Drain], cancellationToken);
            }

            NodeObservation observed;
            TimeSpan requeue = period;
            if (node.IsExternal)
            {
                var probe = await prober.ProbeAsync(node.Spec.Url!, timeout, cancellationToken);
                observed = new NodeObservation { External = true, Endpoint = node.Spec.Url, Pod = PodState.None, Probe = probe, FailureThreshold = threshold };
            }
            else
            {
                (observed, requeue) = await ReconcileManagedAsync(key, node, timeout, threshold, period, cancellationToken);
            }

            var (status, nodeEvents) = NodeStatusCalculator.Compute(node, observed, time.GetUtcNow());
            if (NodeStatusCalculator.Differs(node.Status, status))
            {
                status.LastProbeTime = time.GetUtcNow();
                await WriteStatusAsync(node, status, cancellationToken);
            }

            foreach (var nodeEvent in nodeEvents)
            {
                await events.RecordAsync(node, nodeEvent.Type, nodeEvent.Reason, nodeEvent.Message, cancellationToken);
            }

            return ReconcileResult.Success(requeue);
        }
        catch (HttpOperationException e) when (e.IsConflict() || e.IsAlreadyExists() || e.IsNotFound() || e.IsServerError() || e.IsTooManyRequests())
        {
            return ReconcileResult.Failure(e.Describe());
        }
        catch (HttpRequestException e)
        {
            return ReconcileResult.Failure("API unreachable: " + e.Message);
        }
    }

    /// <summary>
    /// A deleted node held by our finalizer: the router has cordoned it (it reads the deletion), so
    /// it is let go when drained or when its grace period since the deletion has passed.
    /// </summary>
    private async Task<ReconcileResult> DrainDeletedAsync(string key, ComfyNode node, CancellationToken cancellationToken)
    {
        if (node.Metadata.Finalizers?.Contains(EntityFinalizers.Drain) != true)
        {
            _drainAnnounced.TryRemove(key, out _);
            return ReconcileResult.Success();
        }

        try
        {
            var deletedAt = new DateTimeOffset(DateTime.SpecifyKind(node.Metadata.DeletionTimestamp!.Value, DateTimeKind.Utc));
            var grace = TimeSpan.FromSeconds(node.Spec.TerminationGracePeriodSeconds);
            var timeout = TimeSpan.FromSeconds(node.Spec.Probe?.TimeoutSeconds ?? probeDefaults.TimeoutSeconds);
            var check = await drainer.CheckAsync(node, deletedAt, timeout, cancellationToken);
            var now = time.GetUtcNow();
            if (check == DrainCheck.Drained || now >= deletedAt + grace)
            {
                // The finalizer goes first: when that write loses a race (409), the retry decides again, and
                // only the decision that let the node go is recorded.
                await SetFinalizersAsync(node, [.. node.Metadata.Finalizers.Where(f => f != EntityFinalizers.Drain)], cancellationToken);
                if (check == DrainCheck.Drained)
                {
                    await events.RecordAsync(node, EventType.Normal, EventReasons.Drained, "the worker is idle: removing the node", cancellationToken);
                }
                else
                {
                    await events.RecordAsync(node, EventType.Warning, EventReasons.DrainTimedOut, $"the worker was still busy (or the router did not answer) after the grace period of {grace.TotalSeconds:0}s: removing the node", cancellationToken);
                }

                LogDrainFinished(logger, key, check == DrainCheck.Drained);
                _drainAnnounced.TryRemove(key, out _);
                return ReconcileResult.Success();
            }

            if (!_drainAnnounced.TryGetValue(key, out var uid) || uid != node.Metadata.Uid)
            {
                _drainAnnounced[key] = node.Metadata.Uid;
                await events.RecordAsync(node, EventType.Normal, EventReasons.Draining, $"deleted: waiting up to {grace.TotalSeconds:0}s for the worker's prompts to finish", cancellationToken);
                LogDraining(logger, key);
            }

            var left = deletedAt + grace - now;
            return ReconcileResult.Success(left < DrainRecheck ? left : DrainRecheck);
        }
        catch (HttpOperationException e) when (e.IsConflict() || e.IsNotFound() || e.IsServerError() || e.IsTooManyRequests())
        {
            return ReconcileResult.Failure(e.Describe());
        }
        catch (HttpRequestException e)
        {
            return ReconcileResult.Failure("API unreachable: " + e.Message);
        }
    }

    /// <summary>
    /// Whether the node's outdated pod may be replaced now. The first call only starts the drain (the
    /// status write that follows carries the Draining condition, which the router reads as a cordon);
    /// later calls ask <see cref="NodeDrainer"/>, counting from the condition's transition time, and
    /// give up waiting after the node's termination grace period.
    /// </summary>
    private async Task<bool> DrainedForReplacementAsync(string key, ComfyNode node, TimeSpan probeTimeout, CancellationToken cancellationToken)
    {
        var condition = node.Status.Conditions.FindCondition(ConditionTypes.Draining);
        if (condition?.Status != ConditionStatus.True)
        {
            await events.RecordAsync(node, EventType.Normal, EventReasons.Draining, $"the pod spec changed: waiting up to {node.Spec.TerminationGracePeriodSeconds}s for the worker's prompts to finish before replacing pod {node.Status.PodName}", cancellationToken);
            LogDrainingForReplacement(logger, key);
            return false;
        }

        var since = new DateTimeOffset(DateTime.SpecifyKind(condition.LastTransitionTime, DateTimeKind.Utc));
        var grace = TimeSpan.FromSeconds(node.Spec.TerminationGracePeriodSeconds);
        var check = await drainer.CheckAsync(node, since, probeTimeout, cancellationToken);
        if (check == DrainCheck.Drained)
        {
            await events.RecordAsync(node, EventType.Normal, EventReasons.Drained, "the worker is idle: replacing its pod", cancellationToken);
        }
        else if (time.GetUtcNow() >= since + grace)
        {
            await events.RecordAsync(node, EventType.Warning, EventReasons.DrainTimedOut, $"the worker was still busy (or the router did not answer) after the grace period of {grace.TotalSeconds:0}s: replacing its pod", cancellationToken);
        }
        else
        {
            return false;
        }

        LogReplacementDrained(logger, key, check == DrainCheck.Drained);
        return true;
    }

    /// <summary>Writes the node's finalizers, on the resourceVersion read (a 409 retries the reconcile).</summary>
    private async Task SetFinalizersAsync(ComfyNode node, IReadOnlyList<string> finalizers, CancellationToken cancellationToken)
    {
        var patch = new { metadata = new { finalizers, resourceVersion = node.Metadata.ResourceVersion } };
        await _nodeClient.PatchAsync(new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.MergePatch), node.Metadata.Name!, node.Metadata.NamespaceProperty!, EntityApi.OperatorName, cancellationToken);
    }

    private async Task<(NodeObservation Observed, TimeSpan Requeue)> ReconcileManagedAsync(
        string key, ComfyNode node, TimeSpan timeout, int threshold, TimeSpan period, CancellationToken cancellationToken)
    {
        var ns = node.Metadata.NamespaceProperty!;
        var ensuredAt = time.GetUtcNow();
        if (!_ensured.TryGetValue(key, out var ensured) || ensured.Uid != node.Metadata.Uid || ensured.Generation != node.Metadata.Generation || ensuredAt - ensured.At >= OwnedObjectsResync)
        {
            await EnsureConfigMapAsync(node, cancellationToken);
            await EnsureClaimAsync(node, cancellationToken);
            await EnsureServiceAsync(node, cancellationToken);
            _ensured[key] = (node.Metadata.Uid, node.Metadata.Generation, ensuredAt);
        }

        var desired = PodBuilder.Build(node, manifestDefaults);
        var hash = desired.Metadata.Annotations![EntityAnnotations.TemplateHash];
        var owned = pods.List(ns).Where(p => p.Metadata.OwnerReferences?.Any(o => o.Uid == node.Metadata.Uid) == true).ToList();

        // A pod this controller deleted may still be in the cache without its deletion for a moment;
        // taken for a live outdated pod it would be drained a second time.
        if (_deletedPods.TryGetValue(key, out var deleted))
        {
            deleted.RemoveWhere(uid => !owned.Any(p => p.Metadata.Uid == uid));
            owned.RemoveAll(p => deleted.Contains(p.Metadata.Uid));
        }

        var current = owned.FirstOrDefault(p => p.Metadata.Annotations?.TryGetValue(EntityAnnotations.TemplateHash, out var podHash) == true && podHash == hash);
        var outdated = owned.Where(p => p != current && p.Metadata.DeletionTimestamp is null).ToList();
        var draining = false;
        if (outdated.Count > 0)
        {
            // Spec changed. A running outdated pod is drained first: the node is cordoned (the
            // Draining condition) until the router finds its worker idle, or the grace period ends.
            var serving = current is null ? outdated.FirstOrDefault(p => p.Status?.Phase == "Running" && !string.IsNullOrEmpty(p.Status?.PodIP)) : null;
            if (serving is not null && !await DrainedForReplacementAsync(key, node, timeout, cancellationToken))
            {
                current = serving;
                draining = true;
            }
            else
            {
                foreach (var pod in outdated)
                {
                    // The old pod goes (its preStop still lets a running prompt finish).
                    await DeleteIgnoringNotFoundAsync(pod.Metadata.Name!, ns, cancellationToken);
                    _deletedPods.GetOrAdd(key, _ => []).Add(pod.Metadata.Uid);
                    await events.RecordAsync(node, EventType.Normal, EventReasons.PodReplaced, $"pod {pod.Metadata.Name} replaced by {desired.Metadata.Name}: the spec changed", cancellationToken);
                    LogPodReplaced(logger, key, pod.Metadata.Name!, desired.Metadata.Name!);
                }
            }
        }

        if (current?.Metadata.DeletionTimestamp is not null)
        {
            return (new NodeObservation { PodName = current.Metadata.Name, Pod = PodState.Terminating, PodMessage = "the pod is stopping", Models = ModelsOf(node, current).State, FailureThreshold = threshold }, PendingRecheck);
        }

        if (current is null)
        {
            try
            {
                current = await client.CoreV1.CreateNamespacedPodAsync(desired, ns, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken);
                await events.RecordAsync(node, EventType.Normal, EventReasons.PodCreated, $"created pod {desired.Metadata.Name}", cancellationToken);
                LogPodCreated(logger, key, desired.Metadata.Name!);
            }
            catch (HttpOperationException e) when (e.IsAlreadyExists())
            {
                // Made by an earlier run of this reconcile (or the previous leader); the cache will show it.
                current = desired;
            }
        }

        var (models, modelsMessage) = ModelsOf(node, current);
        var phase = current.Status?.Phase;
        if (phase == "Failed")
        {
            var message = current.Status?.Message ?? current.Status?.Reason ?? "the pod failed";
            var now = time.GetUtcNow();
            var restart = _restarts.GetOrAdd(key, _ => (0, now + Backoff(0)));
            if (now >= restart.NotBefore)
            {
                await DeleteIgnoringNotFoundAsync(current.Metadata.Name!, ns, cancellationToken);
                _restarts[key] = (restart.Restarts + 1, now + Backoff(restart.Restarts + 1));
                await events.RecordAsync(node, EventType.Warning, EventReasons.PodFailed, $"pod {current.Metadata.Name} failed ({message}); starting a new one", cancellationToken);
                return (new NodeObservation { PodName = current.Metadata.Name, Pod = PodState.Failed, PodMessage = message, Models = models, ModelsMessage = modelsMessage, FailureThreshold = threshold }, PendingRecheck);
            }

            return (new NodeObservation { PodName = current.Metadata.Name, Pod = PodState.Failed, PodMessage = message, Models = models, ModelsMessage = modelsMessage, FailureThreshold = threshold }, restart.NotBefore - now);
        }

        var podIp = current.Status?.PodIP;
        if (phase != "Running" || string.IsNullOrEmpty(podIp))
        {
            var message = models == ModelsState.Syncing ? "syncing models" : "waiting for the pod to run";
            return (new NodeObservation { PodName = current.Metadata.Name, Pod = PodState.Pending, PodMessage = message, Models = models, ModelsMessage = modelsMessage, FailureThreshold = threshold }, PendingRecheck);
        }

        var endpoint = $"http://{(podIp.Contains(':', StringComparison.Ordinal) ? $"[{podIp}]" : podIp)}:{node.Spec.Port}";
        var probe = await prober.ProbeAsync(endpoint, timeout, cancellationToken);
        if (probe.Succeeded)
        {
            _restarts.TryRemove(key, out _);
        }

        return (new NodeObservation { Endpoint = endpoint, PodName = current.Metadata.Name, Pod = PodState.Running, Models = models == ModelsState.Syncing ? ModelsState.Synced : models, ModelsMessage = modelsMessage, Probe = probe, FailureThreshold = threshold, Draining = draining }, draining && DrainRecheck < period ? DrainRecheck : period);
    }

    private static TimeSpan Backoff(int restarts) => TimeSpan.FromSeconds(Math.Min(300, 2 * Math.Pow(2, restarts)));

    private static (ModelsState State, string? Message) ModelsOf(ComfyNode node, V1Pod pod)
    {
        if (node.Spec.Models is not { Count: > 0 })
        {
            return (ModelsState.NotDeclared, null);
        }

        var sync = pod.Status?.InitContainerStatuses?.FirstOrDefault(s => s.Name == ManifestNames.SyncContainerName);
        var terminated = sync?.State?.Terminated ?? sync?.LastState?.Terminated;
        if (terminated is { ExitCode: 0 })
        {
            return (ModelsState.Synced, null);
        }

        if (terminated is not null)
        {
            return (ModelsState.Failed, $"model sync failed (exit {terminated.ExitCode}): {terminated.Message ?? terminated.Reason ?? "see the pod's sync-models log"}");
        }

        return pod.Status?.Phase == "Running" ? (ModelsState.Synced, null) : (ModelsState.Syncing, null);
    }

    private async Task EnsureConfigMapAsync(ComfyNode node, CancellationToken cancellationToken)
    {
        var desired = ConfigMapBuilder.Build(node, manifestDefaults);
        var ns = node.Metadata.NamespaceProperty!;
        try
        {
            var existing = await client.CoreV1.ReadNamespacedConfigMapAsync(desired.Metadata.Name!, ns, cancellationToken: cancellationToken);
            if (JsonText.Of(existing.Data) != JsonText.Of(desired.Data))
            {
                desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                await client.CoreV1.ReplaceNamespacedConfigMapAsync(desired, desired.Metadata.Name!, ns, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken);
            }
        }
        catch (HttpOperationException e) when (e.IsNotFound())
        {
            await CreateIgnoringExistsAsync(() => client.CoreV1.CreateNamespacedConfigMapAsync(desired, ns, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken));
        }
    }

    private async Task EnsureClaimAsync(ComfyNode node, CancellationToken cancellationToken)
    {
        if (ModelCacheClaimBuilder.Build(node) is not { } desired)
        {
            return;
        }

        var ns = node.Metadata.NamespaceProperty!;
        try
        {
            var existing = await client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(desired.Metadata.Name!, ns, cancellationToken: cancellationToken);
            var managed = existing.Metadata.Labels?.TryGetValue(EntityLabels.ManagedBy, out var manager) == true && manager == EntityLabels.ManagedByValue;
            if (managed && existing.Metadata.OwnerReferences?.Any(o => o.Uid == node.Metadata.Uid) != true)
            {
                // Another node sharing the claim: add ourselves as an owner so it outlives any single node.
                existing.Metadata.OwnerReferences ??= [];
                existing.Metadata.OwnerReferences.Add(ModelCacheClaimBuilder.OwnerReference(node));
                await client.CoreV1.ReplaceNamespacedPersistentVolumeClaimAsync(existing, existing.Metadata.Name!, ns, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken);
            }
        }
        catch (HttpOperationException e) when (e.IsNotFound())
        {
            await CreateIgnoringExistsAsync(() => client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(desired, ns, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken));
        }
    }

    private async Task EnsureServiceAsync(ComfyNode node, CancellationToken cancellationToken)
    {
        var ns = node.Metadata.NamespaceProperty!;
        var desired = ServiceBuilder.Build(node);
        var name = ManifestNames.Service(node.Metadata.Name!);
        if (desired is null)
        {
            try
            {
                var existing = await client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken);
                if (existing.Metadata.OwnerReferences?.Any(o => o.Uid == node.Metadata.Uid && o.Controller == true) == true)
                {
                    await client.CoreV1.DeleteNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken);
                }
            }
            catch (HttpOperationException e) when (e.IsNotFound())
            {
                // Nothing to remove.
            }

            return;
        }

        try
        {
            await client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.IsNotFound())
        {
            await CreateIgnoringExistsAsync(() => client.CoreV1.CreateNamespacedServiceAsync(desired, ns, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken));
        }
    }

    private static async Task CreateIgnoringExistsAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create();
        }
        catch (HttpOperationException e) when (e.IsAlreadyExists())
        {
            // Created concurrently; level-triggered: the next reconcile compares it.
        }
    }

    private async Task DeleteIgnoringNotFoundAsync(string name, string ns, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(name, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.IsNotFound())
        {
            // Already gone.
        }
        catch (System.Text.Json.JsonException)
        {
            // A delete that finished at once is answered with a v1 Status, not the Pod the typed
            // client expects: the pod is gone all the same (throwing here lost the reconcile's events).
        }
    }

    private async Task WriteStatusAsync(ComfyNode node, ComfyNodeStatus status, CancellationToken cancellationToken)
    {
        await StatusWriter.WriteAsync<ComfyNode, ComfyNodeSpec, ComfyNodeStatus>(
            client, node, status, static (s, generation) => s.ObservedGeneration = generation, cancellationToken);
        Interlocked.Increment(ref _statusWrites);
    }

    [LoggerMessage(EventId = EventIds.ComfyNodeControllerPodCreated, Level = LogLevel.Information, Message = "{Node}: created pod {Pod}")]
    private static partial void LogPodCreated(ILogger logger, string node, string pod);

    [LoggerMessage(EventId = EventIds.ComfyNodeControllerPodReplaced, Level = LogLevel.Information, Message = "{Node}: replacing pod {OldPod} with {NewPod} (spec changed)")]
    private static partial void LogPodReplaced(ILogger logger, string node, string oldPod, string newPod);

    [LoggerMessage(EventId = EventIds.ComfyNodeControllerDraining, Level = LogLevel.Information, Message = "{Node}: deleted, draining")]
    private static partial void LogDraining(ILogger logger, string node);

    [LoggerMessage(EventId = EventIds.ComfyNodeControllerDrainingForReplacement, Level = LogLevel.Information, Message = "{Node}: pod spec changed, draining before the pod is replaced")]
    private static partial void LogDrainingForReplacement(ILogger logger, string node);

    [LoggerMessage(EventId = EventIds.ComfyNodeControllerReplacementDrained, Level = LogLevel.Information, Message = "{Node}: drain finished (idle: {Idle}), replacing the pod")]
    private static partial void LogReplacementDrained(ILogger logger, string node, bool idle);

    [LoggerMessage(EventId = EventIds.ComfyNodeControllerDrainFinished, Level = LogLevel.Information, Message = "{Node}: drain finished (idle: {Idle}), finalizer removed")]
    private static partial void LogDrainFinished(ILogger logger, string node, bool idle);
}
