using System.Globalization;
using System.Net;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Kubernetes.Events;

/// <summary>
/// core/v1 Event recorder on the official client, with client-go-style aggregation (docs/kubernetes-api.md §8): the first
/// occurrence creates an Event named <c>&lt;object&gt;.&lt;hex nanos&gt;</c> with count 1; a repeat of the
/// same (object, type, reason, message) within the window merge-patches <c>count</c> and
/// <c>lastTimestamp</c> of that Event instead of creating another.
/// </summary>
public sealed partial class EventRecorder : IEventRecorder, IDisposable
{
    private readonly IKubernetes _client;
    private readonly EventRecorderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<EventKey, Seen> _seen = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _writes = new(1, 1);

    public EventRecorder(IKubernetes client, EventRecorderOptions options, ILogger<EventRecorder>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public void Dispose() => _writes.Dispose();

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> involvedObject, string type, string reason, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(involvedObject);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var meta = involvedObject.Metadata;

        // Objects from a list, or built in code, may carry no apiVersion/kind; their type does.
        var objectType = ResourceType.Of(involvedObject.GetType());
        var kind = string.IsNullOrEmpty(involvedObject.Kind) ? objectType.Kind : involvedObject.Kind;
        var apiVersion = string.IsNullOrEmpty(involvedObject.ApiVersion) ? objectType.ApiVersion : involvedObject.ApiVersion;
        var eventNamespace = string.IsNullOrEmpty(meta.NamespaceProperty) ? "default" : meta.NamespaceProperty;
        var key = new EventKey(eventNamespace, kind, meta.Name ?? string.Empty, meta.Uid ?? string.Empty, type, reason, message);

        // One write at a time keeps "create, then patch the one we created" ordered for repeats.
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _timeProvider.GetUtcNow();
            Seen? previous;
            lock (_gate)
            {
                _seen.TryGetValue(key, out previous);
            }

            if (previous is not null && now - previous.LastSeen < _options.AggregationWindow)
            {
                var count = previous.Count + 1;
                try
                {
                    var patch = new Dictionary<string, object> { ["count"] = count, ["lastTimestamp"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) };
                    await _client.CoreV1.PatchNamespacedEventAsync(
                        new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.MergePatch),
                        previous.Name,
                        eventNamespace,
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                    Remember(key, previous with { Count = count, LastSeen = now });
                    return;
                }
                catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    // The Event expired or was deleted; start a new one below.
                }
            }

            var name = $"{meta.Name}.{(now - DateTimeOffset.UnixEpoch).Ticks * 100:x}";
            // metav1.Time has whole seconds, as the patch of a repeat writes them.
            var stamp = new DateTime(now.UtcDateTime.Ticks - (now.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
            var created = new Corev1Event
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = eventNamespace },
                InvolvedObject = new V1ObjectReference
                {
                    ApiVersion = apiVersion,
                    Kind = kind,
                    Name = meta.Name,
                    NamespaceProperty = meta.NamespaceProperty,
                    Uid = meta.Uid,
                    ResourceVersion = meta.ResourceVersion,
                },
                Type = type,
                Reason = reason,
                Message = message,
                Source = new V1EventSource { Component = _options.Component, Host = _options.Instance },
                ReportingComponent = _options.Component,
                ReportingInstance = _options.Instance,
                FirstTimestamp = stamp,
                LastTimestamp = stamp,
                Count = 1,
            };
            await _client.CoreV1.CreateNamespacedEventAsync(created, eventNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            Remember(key, new Seen(name, 1, now));
        }
        catch (Exception exception) when (exception is HttpOperationException or HttpRequestException or TimeoutException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogEventFailed(_logger, reason, key.Namespace, key.Name, exception);
        }
        finally
        {
            _writes.Release();
        }
    }

    private void Remember(EventKey key, Seen seen)
    {
        lock (_gate)
        {
            if (_seen.Count >= _options.CacheSize && !_seen.ContainsKey(key))
            {
                // Forget the stalest entry; aggregation is best effort, as in client-go's LRU.
                var oldest = _seen.MinBy(pair => pair.Value.LastSeen).Key;
                _seen.Remove(oldest);
            }

            _seen[key] = seen;
        }
    }

    [LoggerMessage(EventId = EventIds.EventRecorderEventFailed, Level = LogLevel.Warning, Message = "Could not record event {Reason} for {Namespace}/{Name}")]
    private static partial void LogEventFailed(ILogger logger, string reason, string @namespace, string name, Exception exception);

    private readonly record struct EventKey(string Namespace, string Kind, string Name, string Uid, string Type, string Reason, string Message);

    private sealed record Seen(string Name, int Count, DateTimeOffset LastSeen);
}
