using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Events;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Autoscaling;
using ComfyOperator.Operator.Manifests;
using ComfyOperator.Operator.Reconciliation;
using ComfyOperator.Operator.Routing;
using ComfyOperator.Operator.Workflows;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Controllers;

/// <summary>
/// Reconciles one WorkflowDeployment: validates the graph, stamps out <c>replicas</c> owned
/// ComfyNodes named <c>&lt;name&gt;-&lt;ordinal&gt;</c> from the template (or counts the nodes its
/// <c>nodeSelector</c> picks), scales down idle nodes first (each deleted node drains through its
/// finalizer), and writes the status when it changed. With <c>spec.autoscaling</c> it first reads the
/// workflow's demand from the router and sets <c>spec.replicas</c> through <c>/scale</c>
/// (<see cref="ScaleDecider"/>), and looks again every <c>--autoscale-interval</c>.
/// </summary>
internal sealed partial class WorkflowDeploymentController(
    IKubernetes client,
    ResourceCache<WorkflowDeployment> workflows,
    ResourceCache<ComfyNode> nodes,
    IEventRecorder events,
    RouterClient? router,
    TimeSpan autoscaleInterval,
    TimeProvider time,
    ILogger<WorkflowDeploymentController> logger)
{
    private readonly CustomResourceClient<ComfyNode> _nodes = new(client);
    private readonly ConcurrentDictionary<string, (string? Uid, ScaleState State)> _scaling = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string? Uid, long Generation)> _rolled = new(StringComparer.Ordinal);
    private long _statusWrites;

    public long StatusWrites => Interlocked.Read(ref _statusWrites);

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var deployment = workflows.Get(key);
        if (deployment is null || deployment.Metadata.DeletionTimestamp is not null)
        {
            _scaling.TryRemove(key, out _);
            return ReconcileResult.Success();
        }

        try
        {
            var errors = await ValidateAsync(deployment, cancellationToken);
            var ns = deployment.Metadata.NamespaceProperty!;
            var name = deployment.Metadata.Name!;
            List<ComfyNode> serving;
            RolloutProgress? rollout = null;
            int desired;
            (int Replicas, int? Demand, string Reason, string Message, bool Active)? scaling = null;
            if (deployment.Spec.NodeSelector is { Count: > 0 } selector)
            {
                serving = [.. nodes.List(ns).Where(n => selector.All(kv => n.Metadata.Labels?.TryGetValue(kv.Key, out var v) == true && v == kv.Value))];
                desired = serving.Count;
            }
            else if (deployment.Spec.Template is not null)
            {
                if (deployment.Spec.Autoscaling is { } autoscaling)
                {
                    var decided = await AutoscaleAsync(key, deployment, autoscaling, cancellationToken);
                    scaling = decided;
                    desired = decided.Replicas;
                }
                else
                {
                    desired = deployment.Spec.Replicas;
                }

                (serving, var progress) = await ScaleAsync(deployment, desired, cancellationToken);
                rollout = progress;
            }
            else
            {
                serving = [];
                desired = 0;
                errors = [.. errors, new WorkflowValidationError { Field = "spec.template", Message = "set template (with replicas) or nodeSelector to say where the workflow runs" }];
            }

            var ready = serving.Count(n => n.Status.Conditions.IsConditionTrue(ConditionTypes.Ready));
            var now = time.GetUtcNow();
            var generation = deployment.Metadata.Generation;
            var status = KubernetesJson.Deserialize<WorkflowDeploymentStatus>(KubernetesJson.Serialize(deployment.Status)) ?? new WorkflowDeploymentStatus();
            status.Conditions ??= [];
            status.ObservedGeneration = generation;
            status.Replicas = serving.Count;
            status.ReadyReplicas = ready;
            status.ReadyText = $"{ready}/{desired}";
            status.Selector = deployment.Spec.NodeSelector is { Count: > 0 } s2
                ? string.Join(',', s2.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))
                : $"{EntityLabels.WorkflowDeployment}={ManifestNames.LabelValue(name)}";
            status.Endpoint = $"/v1/workflows/{name}/runs";
            status.ValidationErrors = errors.Count > 0 ? [.. errors] : null;
            status.Demand = scaling?.Demand;
            status.Scaling = scaling?.Reason;
            status.Phase = errors.Count > 0 ? WorkflowDeploymentPhase.Invalid
                : ready >= desired && (desired > 0 || scaling is not null) ? WorkflowDeploymentPhase.Ready
                : ready > 0 ? WorkflowDeploymentPhase.Degraded
                : WorkflowDeploymentPhase.Pending;
            status.Conditions.SetCondition(
                ConditionTypes.WorkflowValid,
                errors.Count == 0 ? ConditionStatus.True : ConditionStatus.False,
                errors.Count == 0 ? ConditionReasons.Valid : ConditionReasons.Invalid,
                errors.Count == 0 ? "the workflow validates" : string.Join("; ", errors.Select(e => e.ToString())),
                generation,
                now);
            var modelsReady = serving.Count > 0 && serving.All(n => n.Status.Conditions.IsConditionTrue(ConditionTypes.ModelsReady));
            status.Conditions.SetCondition(ConditionTypes.ModelsReady, modelsReady ? ConditionStatus.True : ConditionStatus.False, modelsReady ? ConditionReasons.ModelsSynced : ConditionReasons.ModelsSyncing, modelsReady ? "every worker has the models" : "not every worker has the models yet", generation, now);
            status.Conditions.SetCondition(ConditionTypes.Available, ready > 0 ? ConditionStatus.True : ConditionStatus.False, ready > 0 ? ConditionReasons.ReplicasReady : ConditionReasons.NoReplicasReady, $"{ready} of {desired} workers ready", generation, now);

            if (scaling is { } scaled)
            {
                status.Conditions.SetCondition(ConditionTypes.Scaling, scaled.Active ? ConditionStatus.True : ConditionStatus.False, scaled.Reason, scaled.Message, generation, now);
            }
            else
            {
                status.Conditions = [.. status.Conditions.Where(c => c.Type != ConditionTypes.Scaling)];
            }

            var wasRolling = deployment.Status.Conditions.IsConditionTrue(ConditionTypes.RollingUpdate);
            if (rollout is { Rolling: true } rolling)
            {
                status.Conditions.SetCondition(ConditionTypes.RollingUpdate, ConditionStatus.True, ConditionReasons.RollingOut, $"{rolling.Updated} of {rolling.Total} nodes run the current template; at most {Math.Max(1, deployment.Spec.MaxUnavailable)} unavailable at once", generation, now);
            }
            else if (status.Conditions.FindCondition(ConditionTypes.RollingUpdate) is not null && rollout is { } done)
            {
                status.Conditions.SetCondition(ConditionTypes.RollingUpdate, ConditionStatus.False, ConditionReasons.RolledOut, $"all {done.Total} nodes run the current template", generation, now);
            }

            var wasInvalidTheSame = JsonText.Of(deployment.Status.ValidationErrors) == JsonText.Of(status.ValidationErrors);
            if (JsonText.Of(deployment.Status) != JsonText.Of(status))
            {
                await WriteStatusAsync(deployment, status, cancellationToken);
            }

            if (wasRolling && rollout is { Rolling: false } finished)
            {
                await events.RecordAsync(deployment, EventType.Normal, EventReasons.RolledOut, $"all {finished.Total} nodes run the current template", cancellationToken);
            }

            if (errors.Count > 0 && !wasInvalidTheSame)
            {
                await events.RecordAsync(deployment, EventType.Warning, EventReasons.WorkflowInvalid, string.Join("; ", errors.Select(e => e.ToString())), cancellationToken);
                LogInvalid(logger, key, errors.Count);
            }

            return scaling is null ? ReconcileResult.Success() : ReconcileResult.Success(autoscaleInterval);
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

    private async Task<IReadOnlyList<WorkflowValidationError>> ValidateAsync(WorkflowDeployment deployment, CancellationToken cancellationToken)
    {
        var spec = deployment.Spec;
        var sources = (spec.Workflow is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } ? 1 : 0) + (spec.WorkflowRef is not null ? 1 : 0) + (spec.Preset is not null ? 1 : 0);
        if (sources != 1)
        {
            return [new WorkflowValidationError { Field = "spec", Message = $"set exactly one of workflow, workflowRef and preset ({sources} set)" }];
        }

        if (spec.Template?.Url is not null)
        {
            return [new WorkflowValidationError { Field = "spec.template.url", Message = "a template stamps out managed nodes; url is for external nodes only" }];
        }

        if (spec.Preset is not null)
        {
            // Built-in graphs are known good; their inputs are checked by the router against the preset.
            return [];
        }

        JsonElement graph;
        if (spec.WorkflowRef is { } reference)
        {
            try
            {
                var configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(reference.Name, deployment.Metadata.NamespaceProperty!, cancellationToken: cancellationToken);
                if (configMap.Data?.TryGetValue(reference.Key, out var text) != true)
                {
                    return [new WorkflowValidationError { Field = "spec.workflowRef.key", Message = $"config map {reference.Name} has no key '{reference.Key}'" }];
                }

                using var document = JsonDocument.Parse(text!);
                graph = document.RootElement.Clone();
            }
            catch (HttpOperationException e) when (e.IsNotFound())
            {
                return [new WorkflowValidationError { Field = "spec.workflowRef.name", Message = $"config map {reference.Name} not found" }];
            }
            catch (JsonException e)
            {
                return [new WorkflowValidationError { Field = "spec.workflowRef.key", Message = $"'{reference.Key}' is not JSON: {e.Message}" }];
            }
        }
        else
        {
            graph = spec.Workflow!.Value;
        }

        return WorkflowValidator.Validate(graph, spec);
    }

    /// <summary>
    /// Reads the demand, decides (<see cref="ScaleDecider"/>) and writes <c>spec.replicas</c> through
    /// <c>/scale</c> when it changes. Without a router, or when it does not answer, the replicas stay.
    /// </summary>
    private async Task<(int Replicas, int? Demand, string Reason, string Message, bool Active)> AutoscaleAsync(
        string key, WorkflowDeployment deployment, AutoscalingSpec autoscaling, CancellationToken cancellationToken)
    {
        var current = deployment.Spec.Replicas;
        if (router is null)
        {
            return (current, null, ConditionReasons.NoRouter, "autoscaling needs the router's demand: start the operator with --router-url", false);
        }

        var name = deployment.Metadata.Name!;
        var demand = await router.GetDemandAsync(name, cancellationToken);
        if (demand is null)
        {
            return (current, null, ConditionReasons.RouterUnavailable, $"the router at {router.BaseAddress} did not report the demand of '{name}'; replicas stay at {current}", false);
        }

        var remembered = _scaling.TryGetValue(key, out var kept) && kept.Uid == deployment.Metadata.Uid ? kept.State : ScaleState.Empty;
        var ready = nodes.List(deployment.Metadata.NamespaceProperty)
            .Count(n => n.Metadata.DeletionTimestamp is null && n.Metadata.OwnerReferences?.Any(o => o.Uid == deployment.Metadata.Uid) == true && n.Status.Conditions.IsConditionTrue(ConditionTypes.Ready));
        var decision = ScaleDecider.Decide(autoscaling, current, ready, demand.Total, remembered, time.GetUtcNow());
        _scaling[key] = (deployment.Metadata.Uid, decision.State);
        if (decision.Changed)
        {
            var patch = new V1Patch(KubernetesJson.Serialize(new { spec = new { replicas = decision.Replicas } }), V1Patch.PatchType.MergePatch);
            await client.CustomObjects.PatchNamespacedCustomObjectScaleAsync(patch, EntityApi.Group, EntityApi.Version, deployment.Metadata.NamespaceProperty, "workflowdeployments", name, fieldManager: EntityApi.OperatorName, cancellationToken: cancellationToken);
            var reason = decision.Reason switch
            {
                ConditionReasons.ScalingUp => EventReasons.ScalingUp,
                ConditionReasons.ScaledToZero => EventReasons.ScaledToZero,
                _ => EventReasons.ScalingDown,
            };
            await events.RecordAsync(deployment, EventType.Normal, reason, decision.Message, cancellationToken);
            LogScaled(logger, key, current, decision.Replicas, demand.Total);
        }

        return (decision.Replicas, demand.Total, decision.Reason, decision.Message, true);
    }

    private async Task<(List<ComfyNode> Serving, RolloutProgress Rollout)> ScaleAsync(WorkflowDeployment deployment, int desired, CancellationToken cancellationToken)
    {
        var ns = deployment.Metadata.NamespaceProperty!;
        var name = deployment.Metadata.Name!;
        var template = KubernetesJson.Deserialize<ComfyNodeSpec>(KubernetesJson.Serialize(deployment.Spec.Template))!;
        if (deployment.Spec.Models is { Count: > 0 } models)
        {
            template.Models = [.. (template.Models ?? []).Concat(models.Where(m => template.Models?.Any(t => t.Folder == m.Folder && t.Filename == m.Filename) != true))];
        }

        var hash = TemplateHash.Compute(KubernetesJson.Serialize(template));
        var owned = nodes.List(ns)
            .Where(n => n.Metadata.OwnerReferences?.Any(o => o.Uid == deployment.Metadata.Uid) == true && n.Metadata.DeletionTimestamp is null)
            .ToList();

        // Scale down: idle (or not working) nodes go first, then the highest ordinals.
        if (owned.Count > desired)
        {
            var victims = owned
                .OrderBy(n => n.Status.Phase == ComfyNodePhase.Busy ? 1 : 0)
                .ThenByDescending(n => Ordinal(n.Metadata.Name!, name))
                .Take(owned.Count - desired)
                .ToList();
            foreach (var victim in victims)
            {
                try
                {
                    await _nodes.DeleteAsync(victim.Metadata.Name!, ns, cancellationToken);
                }
                catch (HttpOperationException e) when (e.IsNotFound())
                {
                    // Already gone.
                }

                owned.Remove(victim);
            }

            await events.RecordAsync(deployment, EventType.Normal, EventReasons.ScaledDown, $"scaled down to {desired}: removed {string.Join(", ", victims.Select(v => v.Metadata.Name))}", cancellationToken);
        }

        var rollout = await RollAsync(deployment, owned, template, hash, cancellationToken);
        var created = new List<string>();
        var taken = owned.Select(n => n.Metadata.Name!).ToHashSet(StringComparer.Ordinal);
        for (var ordinal = 0; owned.Count + created.Count < desired; ordinal++)
        {
            var nodeName = $"{name}-{ordinal.ToString(CultureInfo.InvariantCulture)}";
            if (taken.Contains(nodeName))
            {
                continue;
            }

            var node = new ComfyNode
            {
                Metadata = new V1ObjectMeta
                {
                    Name = nodeName,
                    NamespaceProperty = ns,
                    Labels = new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        [EntityLabels.WorkflowDeployment] = ManifestNames.LabelValue(name),
                        [EntityLabels.ManagedBy] = EntityLabels.ManagedByValue,
                    },
                    Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [EntityAnnotations.WorkflowTemplateHash] = hash },
                },
                Spec = KubernetesJson.Deserialize<ComfyNodeSpec>(KubernetesJson.Serialize(template))!,
            };
            node.Metadata.SetControllerReference(deployment);
            try
            {
                await _nodes.CreateAsync(node, ns, EntityApi.OperatorName, cancellationToken);
            }
            catch (HttpOperationException e) when (e.IsAlreadyExists())
            {
                // Exists but is not in our cache yet (made by an earlier pass whose watch event has not
                // arrived), or belongs to someone else. Ours counts towards the replicas, so a stale
                // cache never stamps out extra ordinals; someone else's name is skipped.
                taken.Add(nodeName);
                if (await ReadOwnedAsync(nodeName, ns, deployment.Metadata.Uid, cancellationToken) is { } existing)
                {
                    owned.Add(existing);
                }

                continue;
            }

            created.Add(nodeName);
        }

        if (created.Count > 0)
        {
            await events.RecordAsync(deployment, EventType.Normal, EventReasons.ScaledUp, $"scaled up to {desired}: created {string.Join(", ", created)}", cancellationToken);
        }

        return (owned, rollout);
    }

    /// <summary>
    /// Rolls a template change through the owned nodes, at most <c>spec.maxUnavailable</c> unavailable
    /// at once: a node that is not available (not ready, draining, or not yet caught up with its
    /// spec) gets the new template at no cost; an available one only while the budget allows. Each
    /// updated node then drains its worker before its pod is replaced (<see cref="ComfyNodeController"/>).
    /// </summary>
    private async Task<RolloutProgress> RollAsync(WorkflowDeployment deployment, List<ComfyNode> owned, ComfyNodeSpec template, string hash, CancellationToken cancellationToken)
    {
        var ns = deployment.Metadata.NamespaceProperty!;
        var name = deployment.Metadata.Name!;
        var maxUnavailable = Math.Max(1, deployment.Spec.MaxUnavailable);
        var unavailable = owned.Count(n => !IsAvailable(n));
        var outdated = owned
            .Where(n => !IsCurrent(n, hash))
            .OrderBy(n => IsAvailable(n) ? 1 : 0)
            .ThenBy(n => n.Status.Phase == ComfyNodePhase.Busy ? 1 : 0)
            .ThenBy(n => Ordinal(n.Metadata.Name!, name))
            .ToList();
        var rolled = new List<string>();
        foreach (var node in outdated)
        {
            var available = IsAvailable(node);
            if (available && unavailable >= maxUnavailable)
            {
                break;
            }

            var updated = KubernetesJson.Deserialize<ComfyNode>(KubernetesJson.Serialize(node))!;
            updated.Spec = KubernetesJson.Deserialize<ComfyNodeSpec>(KubernetesJson.Serialize(template))!;
            updated.Metadata.Annotations ??= new Dictionary<string, string>();
            updated.Metadata.Annotations[EntityAnnotations.WorkflowTemplateHash] = hash;
            var written = await _nodes.ReplaceAsync(updated, EntityApi.OperatorName, cancellationToken);
            _rolled[$"{ns}/{node.Metadata.Name}"] = (written.Metadata.Uid, written.Metadata.Generation ?? 0);
            unavailable += available ? 1 : 0;
            rolled.Add(node.Metadata.Name!);
        }

        var current = owned.Count - outdated.Count + rolled.Count;
        if (rolled.Count > 0)
        {
            var message = $"template {hash}: updating {string.Join(", ", rolled)} ({current} of {owned.Count} nodes updated, at most {maxUnavailable} unavailable)";
            await events.RecordAsync(deployment, EventType.Normal, EventReasons.RollingUpdate, message, cancellationToken);
            LogRolling(logger, name, rolled.Count, current, owned.Count);
        }

        // Still rolling while a node is outdated, just updated, or draining its old pod.
        var rolling = outdated.Count > rolled.Count
            || owned.Any(n => rolled.Contains(n.Metadata.Name!) || IsBehindOurUpdate(n) || n.Status.Conditions.IsConditionTrue(ConditionTypes.Draining));
        return new RolloutProgress(current, owned.Count, rolling);
    }

    /// <summary>The node carries the template's hash (or the cache has not seen our update of it yet).</summary>
    private bool IsCurrent(ComfyNode node, string hash) =>
        (node.Metadata.Annotations?.TryGetValue(EntityAnnotations.WorkflowTemplateHash, out var nodeHash) == true && nodeHash == hash)
        || IsBehindOurUpdate(node);

    /// <summary>Ready, not draining, and its status written for its current spec.</summary>
    private bool IsAvailable(ComfyNode node) =>
        !IsBehindOurUpdate(node)
        && node.Status.ObservedGeneration == node.Metadata.Generation
        && node.Status.Conditions.IsConditionTrue(ConditionTypes.Ready)
        && !node.Status.Conditions.IsConditionTrue(ConditionTypes.Draining);

    // The cache may lag the update we just wrote; counting such a node as updated and unavailable
    // keeps a quick second pass from rolling more nodes than maxUnavailable allows.
    private bool IsBehindOurUpdate(ComfyNode node) =>
        _rolled.TryGetValue($"{node.Metadata.NamespaceProperty}/{node.Metadata.Name}", out var written)
        && written.Uid == node.Metadata.Uid
        && (node.Metadata.Generation ?? 0) < written.Generation;

    private async Task<ComfyNode?> ReadOwnedAsync(string nodeName, string ns, string? ownerUid, CancellationToken cancellationToken)
    {
        try
        {
            var node = await _nodes.ReadAsync(nodeName, ns, cancellationToken);
            return node.Metadata.DeletionTimestamp is null && node.Metadata.OwnerReferences?.Any(o => o.Uid == ownerUid && o.Controller == true) == true ? node : null;
        }
        catch (HttpOperationException e) when (e.IsNotFound())
        {
            // Deleted since the create was refused; the next pass makes it again.
            return null;
        }
    }

    private static int Ordinal(string nodeName, string deploymentName) =>
        nodeName.Length > deploymentName.Length + 1 && int.TryParse(nodeName.AsSpan(deploymentName.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal) ? ordinal : -1;

    private async Task WriteStatusAsync(WorkflowDeployment deployment, WorkflowDeploymentStatus status, CancellationToken cancellationToken)
    {
        await StatusWriter.WriteAsync<WorkflowDeployment, WorkflowDeploymentSpec, WorkflowDeploymentStatus>(
            client, deployment, status, static (s, generation) => s.ObservedGeneration = generation, cancellationToken);
        Interlocked.Increment(ref _statusWrites);
    }

    [LoggerMessage(EventId = EventIds.WorkflowDeploymentControllerInvalid, Level = LogLevel.Warning, Message = "{Deployment}: workflow invalid ({Count} errors)")]
    private static partial void LogInvalid(ILogger logger, string deployment, int count);

    [LoggerMessage(EventId = EventIds.WorkflowDeploymentControllerRolling, Level = LogLevel.Information, Message = "{Deployment}: rolling the template to {Count} more node(s) ({Updated} of {Total} updated)")]
    private static partial void LogRolling(ILogger logger, string deployment, int count, int updated, int total);

    [LoggerMessage(EventId = EventIds.WorkflowDeploymentControllerScaled, Level = LogLevel.Information, Message = "{Deployment}: demand {Demand}, replicas {From} -> {To}")]
    private static partial void LogScaled(ILogger logger, string deployment, int from, int to, int demand);
}
