using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Events;
using ComfyOperator.Kubernetes.LeaderElection;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Controllers;
using ComfyOperator.Operator.Health;
using ComfyOperator.Operator.Manifests;
using ComfyOperator.Operator.Metrics;
using ComfyOperator.Operator.Reconciliation;
using ComfyOperator.Operator.Routing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Hosting;

/// <summary>
/// The operator process: (optionally) wins the Lease, then runs informers on ComfyNodes,
/// WorkflowDeployments and owned pods feeding one work queue per controller. Losing the Lease or
/// cancellation stops the controllers; nothing is left half-done that a restart would not redo.
/// </summary>
internal sealed partial class OperatorRuntime : IAsyncDisposable
{
    private const string ManagedSelector = EntityLabels.ManagedBy + "=" + EntityLabels.ManagedByValue;

    private readonly OperatorOptions _options;
    private readonly IKubernetes _client;
    private readonly string _defaultNamespace;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _probeHttp;
    private readonly RouterClient? _router;
    private readonly EventRecorder _events;
    private readonly OperatorMetrics _metrics;
    private volatile bool _leading;
    private volatile bool _synced;
    private ControllerRunner? _nodeRunner;
    private ControllerRunner? _workflowRunner;
    private ComfyNodeController? _nodeController;
    private WorkflowDeploymentController? _workflowController;

    /// <param name="defaultNamespace">The kubeconfig context's (or the pod's) namespace: where the Lease lives unless --lease-namespace says otherwise.</param>
    public OperatorRuntime(OperatorOptions options, IKubernetes client, string defaultNamespace, OperatorMetrics metrics, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _options = options;
        _metrics = metrics;
        _client = client;
        _defaultNamespace = defaultNamespace;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger<OperatorRuntime>();
        _probeHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(options.ProbeTimeoutSeconds) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _router = options.RouterUrl is { } routerUrl
            ? new RouterClient(_probeHttp, routerUrl, options.RouterApiKey, TimeSpan.FromSeconds(options.RouterTimeoutSeconds))
            : null;
        _events = new EventRecorder(client, new EventRecorderOptions { Component = EntityApi.OperatorName, Instance = options.Identity }, loggerFactory.CreateLogger<EventRecorder>(), time);
    }

    /// <summary>True while this instance holds the Lease (always true without leader election, once started).</summary>
    public bool IsLeader => _leading;

    /// <summary>True once the informers of the current leadership term have listed everything.</summary>
    public bool IsSynced => _synced;

    public long Reconciles => (_nodeRunner?.Reconciles ?? 0) + (_workflowRunner?.Reconciles ?? 0);

    public long StatusWrites => (_nodeController?.StatusWrites ?? 0) + (_workflowController?.StatusWrites ?? 0);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!_options.LeaderElection)
        {
            await RunControllersAsync(cancellationToken);
            return;
        }

        var election = new LeaseElection(
            _client,
            new LeaderElectionConfig
            {
                LockNamespace = _options.LeaseNamespace ?? _defaultNamespace,
                LockName = _options.LeaseName,
                Identity = _options.Identity,
                LeaseDuration = _options.LeaseDuration,
                RenewDeadline = _options.RenewDeadline,
                RetryPeriod = _options.RetryPeriod,
            },
            _loggerFactory.CreateLogger<LeaseElection>(),
            _time)
        {
            OnStartedLeading = RunControllersAsync,
            OnNewLeader = leader => LogNewLeader(_logger, leader),
        };
        await election.RunAsync(cancellationToken);
    }

    private async Task RunControllersAsync(CancellationToken cancellationToken)
    {
        _leading = true;
        _metrics.LeaderChanged(true);
        LogLeading(_logger, _options.Identity);
        await using var nodes = new ResourceCache<ComfyNode>(_client, _options.Namespaces, null, _time);
        await using var workflows = new ResourceCache<WorkflowDeployment>(_client, _options.Namespaces, null, _time);
        await using var pods = new ResourceCache<V1Pod>(_client, _options.Namespaces, ManagedSelector, _time);
        await using var configMaps = new ResourceCache<V1ConfigMap>(_client, _options.Namespaces, ManagedSelector, _time);
        await using var services = new ResourceCache<V1Service>(_client, _options.Namespaces, ManagedSelector, _time);
        using var nodeQueue = new WorkQueue(_time);
        using var workflowQueue = new WorkQueue(_time);
        var manifestDefaults = new ManifestDefaults
        {
            ComfyImage = _options.DefaultImage,
            OperatorImage = _options.OperatorImage,
            ScratchSizeLimit = _options.ScratchSizeLimit,
            WorkerCleanupSecret = _options.WorkerCleanupSecret,
        };
        var probeDefaults = new ProbeDefaults(_options.ProbePeriodSeconds, _options.ProbeTimeoutSeconds, _options.ProbeFailureThreshold);
        var prober = new NodeProber(_probeHttp, _metrics, _time);
        _nodeController = new ComfyNodeController(_client, nodes, pods, prober, new NodeDrainer(_router, prober, _time), _events, manifestDefaults, probeDefaults, _time, _loggerFactory.CreateLogger<ComfyNodeController>());
        _workflowController = new WorkflowDeploymentController(_client, workflows, nodes, _events, _router, TimeSpan.FromSeconds(_options.AutoscaleIntervalSeconds), _time, _loggerFactory.CreateLogger<WorkflowDeploymentController>());
        _nodeRunner = new ControllerRunner(ResourceKinds.ComfyNode, nodeQueue, _nodeController.ReconcileAsync, _options.Workers, _metrics, _time, _loggerFactory.CreateLogger<ControllerRunner>());
        _workflowRunner = new ControllerRunner(ResourceKinds.WorkflowDeployment, workflowQueue, _workflowController.ReconcileAsync, Math.Max(1, _options.Workers / 4), _metrics, _time, _loggerFactory.CreateLogger<ControllerRunner>());
        _metrics.ObserveQueue(ResourceKinds.ComfyNode, () => nodeQueue.Length);
        _metrics.ObserveQueue(ResourceKinds.WorkflowDeployment, () => workflowQueue.Length);
        _metrics.ObserveNodes(() => nodes.List()
            .GroupBy(n => string.IsNullOrEmpty(n.Status.Phase) ? "Unknown" : n.Status.Phase, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count())));

        foreach (var informer in nodes.Informers)
        {
            informer.Added += node => NodeChanged(node, nodeQueue, workflowQueue, workflows);
            informer.Updated += (old, node) =>
            {
                // Status-only changes (our own writes) need no reconcile of the node itself.
                if (old.Metadata.Generation != node.Metadata.Generation || node.Metadata.DeletionTimestamp is not null ||
                    !SameEntries(old.Metadata.Labels, node.Metadata.Labels))
                {
                    nodeQueue.Add(node.Metadata.Key());
                }

                if (old.Status.Phase != node.Status.Phase || !SameConditions(old, node) || !SameEntries(old.Metadata.Labels, node.Metadata.Labels))
                {
                    EnqueueWorkflowsOf(node, workflowQueue, workflows);
                }
            };
            informer.Deleted += node => NodeChanged(node, nodeQueue, workflowQueue, workflows);
        }

        foreach (var informer in workflows.Informers)
        {
            informer.Added += w => workflowQueue.Add(w.Metadata.Key());
            informer.Updated += (old, w) =>
            {
                if (old.Metadata.Generation != w.Metadata.Generation || w.Metadata.DeletionTimestamp is not null)
                {
                    workflowQueue.Add(w.Metadata.Key());
                }
            };
            informer.Deleted += w => workflowQueue.Add(w.Metadata.Key());
        }

        foreach (var informer in pods.Informers)
        {
            informer.Added += pod => EnqueueOwner(pod, nodeQueue);
            informer.Updated += (_, pod) => EnqueueOwner(pod, nodeQueue);
            informer.Deleted += pod => EnqueueOwner(pod, nodeQueue);
        }

        // Owned objects that nobody but the operator should touch: a deletion or an edit by hand is
        // repaired at once rather than at the next periodic check.
        var nodeController = _nodeController;
        void OwnedChanged(IKubernetesObject<V1ObjectMeta> owned)
        {
            if (owned.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "ComfyNode") is { } owner)
            {
                var key = $"{owned.Metadata.NamespaceProperty}/{owner.Name}";
                nodeController.OwnedObjectChanged(key);
                nodeQueue.Add(key);
            }
        }

        foreach (var informer in configMaps.Informers)
        {
            informer.Updated += (old, configMap) =>
            {
                if (!SameEntries(old.Data, configMap.Data))
                {
                    OwnedChanged(configMap);
                }
            };
            informer.Deleted += OwnedChanged;
        }

        foreach (var informer in services.Informers)
        {
            informer.Deleted += OwnedChanged;
        }

        try
        {
            nodes.Start(cancellationToken);
            workflows.Start(cancellationToken);
            pods.Start(cancellationToken);
            configMaps.Start(cancellationToken);
            services.Start(cancellationToken);
            await Task.WhenAll(
                nodes.WaitForSyncAsync(cancellationToken),
                workflows.WaitForSyncAsync(cancellationToken),
                pods.WaitForSyncAsync(cancellationToken),
                configMaps.WaitForSyncAsync(cancellationToken),
                services.WaitForSyncAsync(cancellationToken));
            _synced = true;
            LogSynced(_logger, nodes.Count, workflows.Count, pods.Count);
            await Task.WhenAll(_nodeRunner.RunAsync(cancellationToken), _workflowRunner.RunAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Leadership lost or shutdown: the next leader picks up from the resources' state.
        }
        finally
        {
            _metrics.ForgetQueue(ResourceKinds.ComfyNode);
            _metrics.ForgetQueue(ResourceKinds.WorkflowDeployment);
            _metrics.ForgetNodes();
            _metrics.LeaderChanged(false);
            _leading = false;
            _synced = false;
            LogStopped(_logger, _options.Identity);
        }
    }

    private static void NodeChanged(ComfyNode node, WorkQueue nodeQueue, WorkQueue workflowQueue, ResourceCache<WorkflowDeployment> workflows)
    {
        nodeQueue.Add(node.Metadata.Key());
        EnqueueWorkflowsOf(node, workflowQueue, workflows);
    }

    /// <summary>The owning deployment, and every deployment that selects nodes by label (cheap: few exist).</summary>
    private static void EnqueueWorkflowsOf(ComfyNode node, WorkQueue workflowQueue, ResourceCache<WorkflowDeployment> workflows)
    {
        foreach (var owner in node.Metadata.OwnerReferences ?? [])
        {
            if (owner.Kind == "WorkflowDeployment")
            {
                workflowQueue.Add($"{node.Metadata.NamespaceProperty}/{owner.Name}");
            }
        }

        foreach (var workflow in workflows.List(node.Metadata.NamespaceProperty))
        {
            if (workflow.Spec.NodeSelector is { Count: > 0 })
            {
                workflowQueue.Add(workflow.Metadata.Key());
            }
        }
    }

    private static void EnqueueOwner(V1Pod pod, WorkQueue nodeQueue)
    {
        var owner = pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "ComfyNode");
        if (owner is not null)
        {
            nodeQueue.Add($"{pod.Metadata.NamespaceProperty}/{owner.Name}");
        }
    }

    private static bool SameEntries(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));

    private static bool SameConditions(ComfyNode a, ComfyNode b) =>
        a.Status.Conditions.IsConditionTrue(ConditionTypes.Ready) == b.Status.Conditions.IsConditionTrue(ConditionTypes.Ready);

    public async ValueTask DisposeAsync()
    {
        _events.Dispose();
        _probeHttp.Dispose();
        await ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = EventIds.OperatorRuntimeLeading, Level = LogLevel.Information, Message = "{Identity} is leading: starting controllers")]
    private static partial void LogLeading(ILogger logger, string identity);

    [LoggerMessage(EventId = EventIds.OperatorRuntimeSynced, Level = LogLevel.Information, Message = "caches synced: {Nodes} ComfyNodes, {Workflows} WorkflowDeployments, {Pods} pods")]
    private static partial void LogSynced(ILogger logger, int nodes, int workflows, int pods);

    [LoggerMessage(EventId = EventIds.OperatorRuntimeStopped, Level = LogLevel.Information, Message = "{Identity} stopped its controllers")]
    private static partial void LogStopped(ILogger logger, string identity);

    [LoggerMessage(EventId = EventIds.OperatorRuntimeNewLeader, Level = LogLevel.Information, Message = "leader is now {Leader}")]
    private static partial void LogNewLeader(ILogger logger, string leader);
}
