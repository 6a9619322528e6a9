using System.Collections.Concurrent;
using System.Threading.Channels;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Kubernetes.Informers;

/// <summary>
/// Keeps a local copy of every object of one type (namespace/name keyed) by LIST then WATCH on the
/// official client (see <see cref="ListWatch"/>), the way client-go's Reflector does, which the package lacks: resumes from the last resourceVersion (bookmarks included), relists
/// on 410 Gone, backs off exponentially with jitter on any other failure. Handlers run on the
/// informer's loop, one at a time, in event order; a handler that throws is logged and skipped.
/// Reads of the cache are thread-safe.
/// </summary>
public sealed partial class Informer<T> : IAsyncDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ListWatch<T> _listWatch;
    private readonly InformerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Func<double> _random;
    private readonly ExponentialBackoff _backoff;
    private readonly ConcurrentDictionary<string, T> _cache = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<InformerEvent<T>>? _events;
    private CancellationTokenSource? _stopping;
    private Task? _running;
    private long _listCount;
    private long _watchCount;
    private long _failureCount;

    /// <summary>An informer over <see cref="ListWatch.For{T}"/> in the options' namespace and label selector.</summary>
    public Informer(
        IKubernetes client,
        InformerOptions? options = null,
        ILogger<Informer<T>>? logger = null,
        TimeProvider? timeProvider = null,
        Func<double>? random = null)
        : this(ListWatch.For<T>(client, options?.Namespace, options?.LabelSelector), options, logger, timeProvider, random)
    {
    }

    public Informer(
        ListWatch<T> listWatch,
        InformerOptions? options = null,
        ILogger<Informer<T>>? logger = null,
        TimeProvider? timeProvider = null,
        Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(listWatch);
        _listWatch = listWatch;
        _options = options ?? new InformerOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _random = random ?? ExponentialBackoff.DefaultRandom;
        _backoff = new ExponentialBackoff(_options.InitialBackoff, _options.MaxBackoff, 0.5, _random);
        if (_options.PublishEvents)
        {
            _events = Channel.CreateUnbounded<InformerEvent<T>>(new UnboundedChannelOptions { SingleWriter = true });
        }
    }

    public event Action<T>? Added;

    /// <summary>(old, new).</summary>
    public event Action<T, T>? Updated;

    public event Action<T>? Deleted;

    /// <summary>Every change, when <see cref="InformerOptions.PublishEvents"/> is on.</summary>
    public ChannelReader<InformerEvent<T>> Events =>
        _events?.Reader ?? throw new InvalidOperationException("Set InformerOptions.PublishEvents to read events from a channel.");

    /// <summary>True once the first LIST has been loaded into the cache.</summary>
    public bool HasSynced => _synced.Task.IsCompletedSuccessfully;

    /// <summary>The resourceVersion the next watch resumes from.</summary>
    public string? LastSyncResourceVersion { get; private set; }

    /// <summary>How many full LISTs ran (1 + relists).</summary>
    public long ListCount => Interlocked.Read(ref _listCount);

    /// <summary>How many watch requests were opened.</summary>
    public long WatchCount => Interlocked.Read(ref _watchCount);

    /// <summary>How many list/watch failures were backed off from.</summary>
    public long FailureCount => Interlocked.Read(ref _failureCount);

    public int Count => _cache.Count;

    public T? Get(string key) => _cache.TryGetValue(key, out var value) ? value : null;

    public T? Get(string? @namespace, string name) => Get(string.IsNullOrEmpty(@namespace) ? name : $"{@namespace}/{name}");

    /// <summary>A snapshot of the cache.</summary>
    public IReadOnlyList<T> List() => [.. _cache.Values];

    public Task WaitForSyncAsync(CancellationToken cancellationToken = default) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Starts the list/watch loop in the background; <see cref="DisposeAsync"/> stops it.</summary>
    public void Start(CancellationToken cancellationToken = default)
    {
        if (_running is not null)
        {
            throw new InvalidOperationException("The informer is already running.");
        }

        _stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping is not null)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            if (_running is not null)
            {
                await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            _stopping.Dispose();
        }

        _events?.Writer.TryComplete();
    }

    /// <summary>Runs the list/watch loop until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var needList = true;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    await ListAndReplaceAsync(cancellationToken).ConfigureAwait(false);
                    needList = false;
                    failures = 0;
                }

                var watchStarted = _timeProvider.GetTimestamp();
                var events = await WatchOnceAsync(cancellationToken).ConfigureAwait(false);
                if (events == 0 && _timeProvider.GetElapsedTime(watchStarted) < _options.ShortWatchThreshold)
                {
                    // A watch that closes at once with nothing to say is a sick server or proxy; do not spin.
                    throw new IOException("The watch closed immediately without events.");
                }

                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is KubernetesException watchError && watchError.IsGone() || exception is HttpOperationException listError && listError.IsGone())
            {
                LogRelist(_logger, typeof(T).Name, LastSyncResourceVersion, exception.Message);
                needList = true;
            }
            catch (Exception exception) when (exception is KubernetesException or HttpOperationException or HttpRequestException or IOException or TimeoutException or System.Text.Json.JsonException)
            {
                Interlocked.Increment(ref _failureCount);
                var delay = _backoff.Delay(failures++);
                LogFailure(_logger, typeof(T).Name, delay, exception);
                try
                {
                    await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
    }

    private async Task ListAndReplaceAsync(CancellationToken cancellationToken)
    {
        var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
        string? continueToken = null;
        string? resourceVersion = null;
        do
        {
            var page = await _listWatch.ListAsync(_options.PageSize, continueToken, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                fresh[item.Metadata.Key()] = item;
            }

            resourceVersion = page.ResourceVersion;
            continueToken = page.Continue;
        }
        while (continueToken is not null);

        Interlocked.Increment(ref _listCount);

        // Replace the cache wholesale, telling handlers what changed while we were not watching.
        foreach (var (key, old) in _cache)
        {
            if (!fresh.ContainsKey(key) && _cache.TryRemove(key, out _))
            {
                Notify(InformerEventType.Deleted, old, null);
            }
        }

        foreach (var (key, item) in fresh)
        {
            if (_cache.TryGetValue(key, out var old))
            {
                _cache[key] = item;
                if (old.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
                {
                    Notify(InformerEventType.Updated, item, old);
                }
            }
            else
            {
                _cache[key] = item;
                Notify(InformerEventType.Added, item, null);
            }
        }

        LastSyncResourceVersion = resourceVersion;
        LogListed(_logger, typeof(T).Name, fresh.Count, resourceVersion);
        _synced.TrySetResult();
    }

    private async Task<int> WatchOnceAsync(CancellationToken cancellationToken)
    {
        var minSeconds = Math.Max(1, (int)_options.MinWatchTimeout.TotalSeconds);
        var timeoutSeconds = minSeconds + (int)(minSeconds * Math.Clamp(_random(), 0.0, 1.0));
        Interlocked.Increment(ref _watchCount);

        // The package's watcher passes an ERROR event (410 Gone...) or an undecodable line to onError
        // and reads on; the server closes the stream after an ERROR, and the first error is thrown
        // here so the loop above relists or backs off.
        Exception? error = null;
        var count = 0;
        try
        {
            await foreach (var (type, item) in _listWatch.WatchAsync(LastSyncResourceVersion, timeoutSeconds, e => error ??= e, cancellationToken).ConfigureAwait(false))
            {
                if (error is not null)
                {
                    break;
                }

                count++;
                Apply(type, item);
            }
        }
        catch (HttpRequestException exception) when (count == 0 && error is null && exception.InnerException is EndOfStreamException)
        {
            // The package's watch content waits for a first line; a watch the server ends at its
            // timeoutSeconds without any event surfaces as this end-of-stream. It is a normal end
            // (RunAsync still treats one that ends at once as a failure).
        }

        if (error is not null)
        {
            throw error;
        }

        return count;
    }

    private void Apply(WatchEventType type, T item)
    {
        var resourceVersion = item.Metadata.ResourceVersion;
        switch (type)
        {
            case WatchEventType.Added:
            case WatchEventType.Modified:
                var key = item.Metadata.Key();
                if (_cache.TryGetValue(key, out var old))
                {
                    _cache[key] = item;
                    Notify(InformerEventType.Updated, item, old);
                }
                else
                {
                    _cache[key] = item;
                    Notify(InformerEventType.Added, item, null);
                }

                break;
            case WatchEventType.Deleted:
                if (_cache.TryRemove(item.Metadata.Key(), out var removed))
                {
                    Notify(InformerEventType.Deleted, item, removed);
                }

                break;
            case WatchEventType.Bookmark:
            case WatchEventType.Error:
                break;
            default:
                break;
        }

        if (!string.IsNullOrEmpty(resourceVersion))
        {
            LastSyncResourceVersion = resourceVersion;
        }
    }

    private void Notify(InformerEventType type, T item, T? old)
    {
        try
        {
            switch (type)
            {
                case InformerEventType.Added:
                    Added?.Invoke(item);
                    break;
                case InformerEventType.Updated:
                    Updated?.Invoke(old!, item);
                    break;
                case InformerEventType.Deleted:
                    Deleted?.Invoke(item);
                    break;
                default:
                    break;
            }
        }
#pragma warning disable CA1031 // A handler's bug must not stop the informer for every other consumer.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogHandlerFailed(_logger, typeof(T).Name, type, item.Metadata.Key(), exception);
        }

        _events?.Writer.TryWrite(new InformerEvent<T>(type, item, old));
    }

    [LoggerMessage(EventId = EventIds.InformerListed, Level = LogLevel.Debug, Message = "Informer {Kind}: listed {Count} objects at resourceVersion {ResourceVersion}")]
    private static partial void LogListed(ILogger logger, string kind, int count, string? resourceVersion);

    [LoggerMessage(EventId = EventIds.InformerRelist, Level = LogLevel.Information, Message = "Informer {Kind}: resourceVersion {ResourceVersion} expired ({Reason}); relisting")]
    private static partial void LogRelist(ILogger logger, string kind, string? resourceVersion, string reason);

    [LoggerMessage(EventId = EventIds.InformerFailure, Level = LogLevel.Warning, Message = "Informer {Kind}: list/watch failed; retrying in {Delay}")]
    private static partial void LogFailure(ILogger logger, string kind, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = EventIds.InformerHandlerFailed, Level = LogLevel.Error, Message = "Informer {Kind}: {Type} handler failed for {Key}")]
    private static partial void LogHandlerFailed(ILogger logger, string kind, InformerEventType type, string key, Exception exception);
}
