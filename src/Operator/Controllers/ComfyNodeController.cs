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
/// asks to be run again after <c>probe.periodSeconds</c>.
/// </summary>
internal sealed partial class ComfyNodeController(
    IKubernetes client,
    ResourceCache<ComfyNode> nodes,
    ResourceCache<V1Pod> pods,
    NodeProber prober,
    IEventRecorder events,
    ManifestDefaults manifestDefaults,
    ProbeDefaults probeDefaults,
    TimeProvider time,
    ILogger<ComfyNodeController> logger)
{
    private static readonly TimeSpan PendingRecheck = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the config map, cache claim and service of an unchanged node are read back and
    /// repaired. Every reconcile is also a probe (every few seconds per node); reading three objects
    /// each time would cost 1,000 managed nodes hundreds of API reads per second for nothing. A spec
    /// change (new generation), a new node uid or an operator restart ensures them at once.
    /// </summary>
    internal static readonly TimeSpan OwnedObjectsResync = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, (int Restarts, DateTimeOffset NotBefore)> _restarts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string? Uid, long? Generation, DateTimeOffset At)> _ensured = new(StringComparer.Ordinal);
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
        if (node is null || node.Metadata.DeletionTimestamp is not null)
        {
            // Owner references let the garbage collector remove the pod, config map and service.
            _restarts.TryRemove(key, out _);
            _ensured.TryRemove(key, out _);
            return ReconcileResult.Success();
        }

        var period = TimeSpan.FromSeconds(node.Spec.Probe?.PeriodSeconds ?? probeDefaults.PeriodSeconds);
        var timeout = TimeSpan.FromSeconds(node.Spec.Probe?.TimeoutSeconds ?? probeDefaults.TimeoutSeconds);
        var threshold = node.Spec.Probe?.FailureThreshold ?? probeDefaults.FailureThreshold;
        try
        {
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
        V1Pod? current = null;
        foreach (var pod in owned)
        {
            if ((pod.Metadata.Annotations?.TryGetValue(EntityAnnotations.TemplateHash, out var podHash) == true && podHash == hash))
            {
                current = pod;
                continue;
            }

            if (pod.Metadata.DeletionTimestamp is null)
            {
                // Spec changed: the old pod goes (its preStop lets a running prompt finish).
                await DeleteIgnoringNotFoundAsync(pod.Metadata.Name!, ns, cancellationToken);
                await events.RecordAsync(node, EventType.Normal, EventReasons.PodReplaced, $"pod {pod.Metadata.Name} replaced by {desired.Metadata.Name}: the spec changed", cancellationToken);
                LogPodReplaced(logger, key, pod.Metadata.Name!, desired.Metadata.Name!);
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

        return (new NodeObservation { Endpoint = endpoint, PodName = current.Metadata.Name, Pod = PodState.Running, Models = models == ModelsState.Syncing ? ModelsState.Synced : models, ModelsMessage = modelsMessage, Probe = probe, FailureThreshold = threshold }, period);
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
}
