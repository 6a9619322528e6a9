using System.Globalization;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Informers;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Router.Workflows;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Workers and workflows from the cluster: informers on ComfyNode and WorkflowDeployment in the
/// configured namespaces (or all). A ComfyNode is a worker while it is Ready with an endpoint and
/// not Offline/Failed; it leaves when gone or Offline. One with <c>spec.unschedulable</c> or a
/// deletion timestamp (its finalizer holds it while it drains) stays a worker, cordoned: it finishes
/// what it has and takes nothing new. Its labels (metadata.labels plus
/// spec.labels) are what workflows select on. WorkflowDeployments go into the workflow catalog.
/// The router's own WebSocket and probes still decide moment-to-moment health.
/// </summary>
internal sealed partial class KubernetesNodeSource : INodeSource, IHostedService, IAsyncDisposable
{
    public const string SourceName = NodeSources.Kubernetes;

    private readonly IKubernetes _client;
    private readonly WorkflowCatalog _catalog;
    private readonly ILogger<KubernetesNodeSource> _logger;
    private readonly List<Informer<ComfyNode>> _nodes;
    private readonly List<Informer<WorkflowDeployment>> _workflows;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _configMaps = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _configMapRefresh;
    private IReadOnlyList<NodeEndpoint> _current = [];
    private string? _workflowFingerprint;

    /// <summary>The workflowRefs the last rebuild resolved (found or not): what the refresh reads again.</summary>
    private IReadOnlyList<(string Namespace, WorkflowRef Ref)> _references = [];

    /// <summary>Bumped whenever a referenced ConfigMap's text appears, changes or goes away.</summary>
    private int _configMapsVersion;
    private int _configMapsVersionUsed = -1;
    private CancellationTokenSource? _stopping;

    // Stop and dispose may run at once when the router is hosted in-process (WebApplicationFactory stops
    // the host while the entry point stops and disposes it): a stop must never cancel a disposed source.
    private readonly Lock _stoppingGate = new();

    public KubernetesNodeSource(IKubernetes client, WorkflowCatalog catalog, IOptions<WorkflowRoutingOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _client = client;
        _catalog = catalog;
        _logger = loggers.CreateLogger<KubernetesNodeSource>();
        _time = time;
        _configMapRefresh = options.Value.Kubernetes.ConfigMapRefreshInterval;
        var namespaces = options.Value.Kubernetes.Namespaces.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.Ordinal).ToList();
        IReadOnlyList<string?> scopes = namespaces.Count == 0 ? [null] : [.. namespaces];
        _nodes = [.. scopes.Select(ns => new Informer<ComfyNode>(client, new InformerOptions { Namespace = ns }, loggers.CreateLogger<Informer<ComfyNode>>(), time))];
        _workflows = [.. scopes.Select(ns => new Informer<WorkflowDeployment>(client, new InformerOptions { Namespace = ns }, loggers.CreateLogger<Informer<WorkflowDeployment>>(), time))];
        foreach (var informer in _nodes)
        {
            informer.Added += _ => RebuildNodes();
            informer.Updated += (_, _) => RebuildNodes();
            informer.Deleted += _ => RebuildNodes();
        }

        foreach (var informer in _workflows)
        {
            informer.Added += _ => RebuildWorkflows();
            informer.Updated += (_, _) => RebuildWorkflows();
            informer.Deleted += _ => RebuildWorkflows();
        }
    }

    public IReadOnlyList<NodeEndpoint> Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public event EventHandler? Changed;

    public bool HasSynced => _nodes.All(i => i.HasSynced) && _workflows.All(i => i.HasSynced);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = new CancellationTokenSource();
        foreach (var informer in _nodes)
        {
            informer.Start(_stopping.Token);
        }

        foreach (var informer in _workflows)
        {
            informer.Start(_stopping.Token);
        }

        _ = RefreshConfigMapsAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stoppingGate)
        {
            _stopping?.Cancel();
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var informer in _nodes)
        {
            await informer.DisposeAsync();
        }

        foreach (var informer in _workflows)
        {
            await informer.DisposeAsync();
        }

        CancellationTokenSource? stopping;
        lock (_stoppingGate)
        {
            stopping = _stopping;
            _stopping = null;
        }

        stopping?.Dispose();
    }

    /// <summary>The worker a ComfyNode stands for, or null while it must not take runs.</summary>
    public static NodeEndpoint? ToEndpoint(ComfyNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var status = node.Status;
        if (status is null || string.IsNullOrWhiteSpace(status.Endpoint)
            || status.Phase is ComfyNodePhase.Offline or ComfyNodePhase.Failed
            || !status.Conditions.IsConditionTrue(ConditionTypes.Ready)
            || !Uri.TryCreate(status.Endpoint.EndsWith('/') ? status.Endpoint : status.Endpoint + "/", UriKind.Absolute, out var uri))
        {
            return null;
        }

        var labels = new Dictionary<string, string>(node.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in node.Spec?.Labels ?? new Dictionary<string, string>())
        {
            labels[key] = value;
        }

        var models = status.Conditions.FindCondition(ConditionTypes.ModelsReady);
        var modelFiles = string.Join(',', (node.Spec?.Models ?? []).Select(m => $"{m.Folder}/{m.Filename}"));
        return new NodeEndpoint(uri, SourceName)
        {
            Labels = labels,
            MaxQueue = node.Spec?.MaxQueue,
            Managed = string.IsNullOrWhiteSpace(node.Spec?.Url),
            ResourceName = $"{node.Metadata.NamespaceProperty}/{node.Metadata.Name}",
            ModelsVersion = string.Create(CultureInfo.InvariantCulture, $"{models?.Status}|{models?.LastTransitionTime.Ticks}|{modelFiles}"),
            Cordoned = node.Spec?.Unschedulable == true || node.Metadata.DeletionTimestamp is not null || status.Conditions.IsConditionTrue(ConditionTypes.Draining),
        };
    }

    private void RebuildNodes()
    {
        var endpoints = _nodes.SelectMany(i => i.List())
            .Select(ToEndpoint)
            .OfType<NodeEndpoint>()
            .GroupBy(e => e.BaseAddress)
            .Select(g => g.First())
            .OrderBy(e => e.BaseAddress.ToString(), StringComparer.Ordinal)
            .ToList();
        bool changed;
        lock (_gate)
        {
            changed = !endpoints.SequenceEqual(_current, EndpointComparer.Instance);
            _current = endpoints;
        }

        if (changed)
        {
            LogNodes(_logger, endpoints.Count);
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    private void RebuildWorkflows()
    {
        // Status writes (ready counts) change nothing the router serves: only rebuild when a spec,
        // an annotation, the phase or the validation errors changed.
        var fingerprint = string.Join('\n', _workflows.SelectMany(i => i.List())
            .Select(d => $"{d.Metadata.NamespaceProperty}/{d.Metadata.Name}|{d.Metadata.Uid}|{KubernetesJson.Serialize(d.Spec)}|{d.Status?.Phase}|{d.Status?.ValidationErrors?.Count}|"
                + string.Join(',', (d.Metadata.Annotations ?? new Dictionary<string, string>()).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}")))
            .Order(StringComparer.Ordinal));
        lock (_gate)
        {
            if (fingerprint == _workflowFingerprint && _configMapsVersion == _configMapsVersionUsed)
            {
                return;
            }

            _workflowFingerprint = fingerprint;
            _configMapsVersionUsed = _configMapsVersion;
        }

        var definitions = new List<WorkflowDefinition>();
        var missing = new List<(string Namespace, WorkflowRef Ref)>();
        var references = new List<(string Namespace, WorkflowRef Ref)>();
        foreach (var deployment in _workflows.SelectMany(i => i.List()).OrderBy(d => d.Metadata.Name, StringComparer.Ordinal))
        {
            var ns = deployment.Metadata.NamespaceProperty ?? "default";
            definitions.Add(WorkflowDefinitionFactory.Create(deployment, WorkflowSourceNames.Kubernetes, reference =>
            {
                references.Add((ns, reference));
                lock (_gate)
                {
                    if (_configMaps.TryGetValue($"{ns}/{reference.Name}/{reference.Key}", out var text))
                    {
                        return text;
                    }
                }

                missing.Add((ns, reference));
                return null;
            }));
        }

        lock (_gate)
        {
            _references = references;
        }

        _catalog.Replace(WorkflowSourceNames.Kubernetes, WorkflowNameClashes.Refuse(definitions));
        if (missing.Count > 0 && _stopping is { IsCancellationRequested: false } stopping)
        {
            _ = LoadConfigMapsAsync(missing, stopping.Token);
        }
    }

    /// <summary>Reads the ConfigMaps workflowRefs name, then rebuilds once if any text appeared, changed or went away.</summary>
    private async Task LoadConfigMapsAsync(IReadOnlyList<(string Namespace, WorkflowRef Ref)> references, CancellationToken cancellationToken)
    {
        var changed = false;
        foreach (var (ns, reference) in references.DistinctBy(r => (r.Namespace, r.Ref.Name, r.Ref.Key)))
        {
            var key = $"{ns}/{reference.Name}/{reference.Key}";
            string? text;
            try
            {
                var map = await _client.CoreV1.ReadNamespacedConfigMapAsync(reference.Name, ns, cancellationToken: cancellationToken);
                text = map.Data?.TryGetValue(reference.Key, out var value) == true ? value : null;
            }
            catch (HttpOperationException ex) when (ex.IsNotFound())
            {
                text = null;
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException)
            {
                // Unreadable for now (RBAC, API trouble): keep what was read before.
                LogConfigMap(_logger, ns, reference.Name, ex is HttpOperationException api ? api.Describe() : ex.Message);
                continue;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            lock (_gate)
            {
                var had = _configMaps.TryGetValue(key, out var previous);
                if (text is null ? had : !had || !string.Equals(previous, text, StringComparison.Ordinal))
                {
                    if (text is null)
                    {
                        _configMaps.Remove(key);
                    }
                    else
                    {
                        _configMaps[key] = text;
                    }

                    _configMapsVersion++;
                    changed = true;
                }
            }
        }

        if (changed)
        {
            RebuildWorkflows();
        }
    }

    /// <summary>Reads the referenced ConfigMaps again every <see cref="KubernetesSourceOptions.ConfigMapRefreshInterval"/>: an edited graph is served without touching its WorkflowDeployment.</summary>
    private async Task RefreshConfigMapsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_configMapRefresh, _time, cancellationToken);
                IReadOnlyList<(string Namespace, WorkflowRef Ref)> references;
                lock (_gate)
                {
                    references = _references;
                }

                if (references.Count > 0)
                {
                    await LoadConfigMapsAsync(references, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = EventIds.KubernetesNodeSourceNodes, Level = LogLevel.Information, Message = "Kubernetes source: {Count} ready ComfyNodes")]
    private static partial void LogNodes(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.KubernetesNodeSourceConfigMap, Level = LogLevel.Warning, Message = "ConfigMap {Namespace}/{Name} for a workflowRef could not be read: {Error}")]
    private static partial void LogConfigMap(ILogger logger, string @namespace, string name, string error);

    private sealed class EndpointComparer : IEqualityComparer<NodeEndpoint>
    {
        public static EndpointComparer Instance { get; } = new();

        public bool Equals(NodeEndpoint? x, NodeEndpoint? y) =>
            x is not null && y is not null && x.BaseAddress == y.BaseAddress && x.MaxQueue == y.MaxQueue && x.Cordoned == y.Cordoned
            && string.Equals(x.ModelsVersion, y.ModelsVersion, StringComparison.Ordinal)
            && x.Labels.Count == y.Labels.Count && x.Labels.All(p => y.Labels.TryGetValue(p.Key, out var v) && v == p.Value);

        public int GetHashCode(NodeEndpoint obj) => obj.BaseAddress.GetHashCode();
    }
}
