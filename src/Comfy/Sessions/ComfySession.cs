using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Comfy.Sessions;

/// <summary>
/// One WebSocket to one ComfyUI worker (docs/comfyui-protocol.md §5), shared by every prompt we send it.
/// Routes events by prompt_id to <see cref="ComfyPromptSubscription"/>s, completes them by the
/// rule of docs/comfyui-protocol.md §5.6, reconnects with a fresh client id and capped backoff when the socket drops (docs/comfyui-protocol.md §5.1
/// pitfall), and polls /history for prompts whose events may have been lost meanwhile.
/// </summary>
public sealed class ComfySession : IAsyncDisposable
{
    /// <summary>What each connection holds while it waits for the next message.</summary>
    internal const int IdleReceiveBufferBytes = 1024;

    /// <summary>The first pooled buffer for a message that does not fit the idle one.</summary>
    private const int PooledReceiveBufferBytes = 16 * 1024;

    private readonly ComfySessionOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ComfyPromptSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Lock _listenersGate = new();

    /// <summary>Copied on write: read on every message, changed about once per connection.</summary>
    private volatile Action<ComfyEvent>[] _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _stateGate = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _helloAnswered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _helloIgnored;
    private ComfySessionState _state = ComfySessionState.Created;
    private Task? _loop;
    private string _clientId = "";
    private string? _currentPromptId;
    private long _eventsReceived;

    public ComfySession(ComfyClient client, ComfySessionOptions? options = null, TimeProvider? timeProvider = null, ILogger<ComfySession>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
        _options = options ?? new ComfySessionOptions();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public ComfyClient Client { get; }

    /// <summary>The client id of the current connection ("" before the first). Changes on every reconnect.</summary>
    public string ClientId => Volatile.Read(ref _clientId);

    public ComfySessionState State
    {
        get
        {
            lock (_stateGate)
            {
                return _state;
            }
        }
    }

    /// <summary>How many times a connection was established (1 after the first).</summary>
    public int ConnectionCount { get; private set; }

    /// <summary>Failed connect attempts since the last good connection: a dead worker keeps counting up.</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>When the socket was last lost (null while connected or never connected).</summary>
    public DateTimeOffset? DisconnectedSince { get; private set; }

    /// <summary>Why the socket was last lost or could not connect.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>queue_remaining from the latest <c>status</c> message.</summary>
    public int? QueueRemaining { get; private set; }

    /// <summary>The server's reply to our feature_flags hello, when we sent one.</summary>
    public ComfyFeatures? ServerFeatures { get; private set; }

    /// <summary>Messages received over all connections.</summary>
    public long EventsReceived => Interlocked.Read(ref _eventsReceived);

    public event EventHandler<ComfySessionStateChangedEventArgs>? StateChanged;

    /// <summary>Starts the connection loop (idempotent). Use <see cref="WaitUntilConnectedAsync"/> to wait for the socket.</summary>
    public void Start()
    {
        lock (_stateGate)
        {
            if (_loop is not null || _state == ComfySessionState.Stopped)
            {
                return;
            }

            _loop = Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>Starts if needed and waits until the socket is open.</summary>
    public async Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default)
    {
        Start();
        while (true)
        {
            Task wait;
            lock (_stateGate)
            {
                if (_state == ComfySessionState.Connected)
                {
                    return;
                }

                ObjectDisposedException.ThrowIf(_state == ComfySessionState.Stopped, this);
                wait = _connected.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits (bounded) until the server has read our feature_flags hello on this connection, so the
    /// prompt's previews all come in the announced format. A server that never answers is not
    /// waited for again.
    /// </summary>
    private async Task WaitForHelloReplyAsync(CancellationToken cancellationToken)
    {
        if (!_options.SupportsPreviewMetadata || _helloIgnored)
        {
            return;
        }

        var answered = Volatile.Read(ref _helloAnswered).Task;
        if (answered.IsCompleted)
        {
            return;
        }

        try
        {
            await answered.WaitAsync(_options.FeatureFlagsReplyTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _helloIgnored = true;
        }
    }

    /// <summary>Routes the events of a prompt to a new subscription. Subscribe before POSTing it.</summary>
    public ComfyPromptSubscription Subscribe(string promptId) => Subscribe(promptId, null);

    /// <param name="promptId">The prompt.</param>
    /// <param name="onEvent">Takes the events on the receive loop instead of the subscription's <see cref="ComfyPromptSubscription.Events"/> (quick, must not throw).</param>
    private ComfyPromptSubscription Subscribe(string promptId, Action<ComfyEvent>? onEvent)
    {
        ArgumentException.ThrowIfNullOrEmpty(promptId);
        var subscription = new ComfyPromptSubscription(this, promptId, onEvent);
        if (!_subscriptions.TryAdd(promptId, subscription))
        {
            throw new InvalidOperationException($"Prompt {promptId} already has a subscription on this session.");
        }

        if (State != ComfySessionState.Connected)
        {
            // Whatever client id the caller submits with now will not be ours for long.
            BeginPolling(subscription);
        }

        return subscription;
    }

    /// <summary>
    /// Follows a prompt that was submitted earlier under another client id (by a previous process,
    /// or before a reconnect). Its events go to that id, so they reach this session only when it was
    /// opened under that id (<see cref="ComfySessionOptions.ClientIdFactory"/>); either way the outcome
    /// also comes from polling /history; neither queued nor in history (twice) completes it as Lost.
    /// </summary>
    /// <param name="promptId">The prompt.</param>
    /// <param name="onEvent">Takes the events on the receive loop instead of the subscription's <see cref="ComfyPromptSubscription.Events"/> (quick, must not throw).</param>
    public ComfyPromptSubscription Follow(string promptId, Action<ComfyEvent>? onEvent = null)
    {
        var subscription = Subscribe(promptId, onEvent);
        subscription.MarkSubmitted();
        BeginPolling(subscription);
        return subscription;
    }

    /// <summary>Calls <paramref name="listener"/> for every event of every prompt (and status, unknown...), on the receive loop. Dispose to stop.</summary>
    public IDisposable Listen(Action<ComfyEvent> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_listenersGate)
        {
            _listeners = [.. _listeners, listener];
        }

        return new Listener(this, listener);
    }

    private void StopListening(Action<ComfyEvent> listener)
    {
        lock (_listenersGate)
        {
            var index = Array.IndexOf(_listeners, listener);
            if (index >= 0)
            {
                _listeners = [.. _listeners.AsSpan(0, index), .. _listeners.AsSpan(index + 1)];
            }
        }
    }

    /// <summary>
    /// Submits a prompt with this session's client id and waits until it is done (history ready,
    /// docs/comfyui-protocol.md §5.6), or lost. Throws <see cref="ComfyPromptRejectedException"/> when validation fails.
    /// On cancellation the prompt is interrupted/dequeued on the worker (see <see cref="ComfyRunOptions.CancelOnWorker"/>).
    /// </summary>
    public async Task<ComfyPromptCompletion> RunPromptAsync(JsonObject prompt, ComfyRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new ComfyRunOptions();
        await WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
        await WaitForHelloReplyAsync(cancellationToken).ConfigureAwait(false);

        var promptId = options.PromptId ?? Guid.NewGuid().ToString("D");
        using var subscription = Subscribe(promptId, options.OnEvent);
        var clientId = ClientId;
        if (options.Submitting is { } submitting)
        {
            await submitting(clientId, cancellationToken).ConfigureAwait(false);
        }

        var accepted = await Client.QueuePromptAsync(new ComfyPromptRequest
        {
            Prompt = prompt,
            ClientId = clientId,
            PromptId = promptId,
            ExtraData = options.ExtraData,
            Front = options.Front,
            Number = options.Number,
            PartialExecutionTargets = options.PartialExecutionTargets,
        }, cancellationToken).ConfigureAwait(false);
        subscription.MarkSubmitted();
        if (clientId != ClientId)
        {
            BeginPolling(subscription);
        }

        try
        {
            var completion = await subscription.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            return completion with { Accepted = accepted };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && options.CancelOnWorker)
        {
            await CancelOnWorkerAsync(promptId).ConfigureAwait(false);
            throw;
        }
    }

    private async Task CancelOnWorkerAsync(string promptId)
    {
        // The caller's token is already cancelled; this cleanup gets its own short budget so an
        // abandoned prompt does not keep the GPU busy.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _timeProvider);
        try
        {
            await Client.DeleteFromQueueAsync([promptId], timeout.Token).ConfigureAwait(false);
            await Client.InterruptAsync(promptId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or ComfyHttpException or OperationCanceledException)
        {
            SessionLog.CancelFailed(_logger, promptId, ex);
        }
    }

    internal void Unsubscribe(ComfyPromptSubscription subscription) =>
        _subscriptions.TryRemove(new KeyValuePair<string, ComfyPromptSubscription>(subscription.PromptId, subscription));

    // ---------------------------------------------------------------- connection loop

    private async Task RunAsync(CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var clientId = _options.ClientIdFactory();
            var uri = Client.GetWebSocketUri(clientId);
            SetState(ConnectionCount == 0 && failures == 0 ? ComfySessionState.Connecting : ComfySessionState.Reconnecting, null);
            var connected = false;
            Exception? error = null;
            WebSocket? socket = null;
            try
            {
                using (var timeout = new CancellationTokenSource(_options.ConnectTimeout, _timeProvider))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token))
                {
                    socket = await ComfyWebSocket.ConnectAsync(uri, _options.KeepAliveInterval, _options.KeepAliveTimeout, linked.Token).ConfigureAwait(false);
                    if (_options.SupportsPreviewMetadata)
                    {
                        Volatile.Write(ref _helloAnswered, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                        var hello = """{"type":"feature_flags","data":{"supports_preview_metadata":true}}"""u8.ToArray();
                        await socket.SendAsync(hello, WebSocketMessageType.Text, true, linked.Token).ConfigureAwait(false);
                    }
                }

                connected = true;
                failures = 0;
                Volatile.Write(ref _clientId, clientId);
                ConnectionCount++;
                ConsecutiveFailures = 0;
                DisconnectedSince = null;
                SessionLog.Connected(_logger, uri, clientId);
                SetState(ComfySessionState.Connected, null);
                await ReceiveAsync(socket, stop).ConfigureAwait(false);
                error = new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The worker closed the socket.");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException or IOException or ComfyProtocolException or InvalidOperationException)
            {
                error = ex;
            }
            finally
            {
                socket?.Dispose();
            }

            LastError = error;
            if (connected)
            {
                OnDisconnected(error);
            }
            else
            {
                ConsecutiveFailures = ++failures;
                SetState(ComfySessionState.Reconnecting, error);
            }

            var delay = Backoff(Math.Max(failures, 1));
            SessionLog.Disconnected(_logger, uri, delay, failures, error);
            try
            {
                await Task.Delay(delay, _timeProvider, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Min(attempt - 1, 16);
        var baseDelay = Math.Min(_options.ReconnectMaxDelay.TotalMilliseconds, _options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, exponent));
        var jitter = 0.8 + (0.4 * _options.Jitter());
        return TimeSpan.FromMilliseconds(baseDelay * jitter);
    }

    private async Task ReceiveAsync(WebSocket socket, CancellationToken stop)
    {
        // An idle connection waits with this small buffer only (a router keeps one per worker, and
        // ComfyUI's messages are mostly a few hundred bytes); a longer message is assembled in a
        // pooled buffer that goes back as soon as the message is parsed.
        var small = new byte[IdleReceiveBufferBytes];
        byte[]? pooled = null;
        var count = 0;
        try
        {
            while (true)
            {
                var buffer = pooled ?? small;
                var limit = Math.Min(buffer.Length, _options.MaxMessageBytes);
                if (count == limit)
                {
                    if (limit >= _options.MaxMessageBytes)
                    {
                        throw new ComfyProtocolException($"A message exceeds {_options.MaxMessageBytes} bytes.");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(buffer.Length * 2, PooledReceiveBufferBytes), _options.MaxMessageBytes));
                    buffer.AsSpan(0, count).CopyTo(larger);
                    if (pooled is not null)
                    {
                        ArrayPool<byte>.Shared.Return(pooled);
                    }

                    pooled = larger;
                    buffer = larger;
                    limit = Math.Min(buffer.Length, _options.MaxMessageBytes);
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(count, limit - count), stop).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                count += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }

                ComfyEvent? ev = null;
                try
                {
                    // Both parsers copy what they keep, so the buffer can be reused or returned at once.
                    ev = result.MessageType == WebSocketMessageType.Text
                        ? ComfyMessageParser.ParseText(buffer.AsSpan(0, count))
                        : ComfyMessageParser.ParseBinary(buffer.AsSpan(0, count).ToArray());
                }
                catch (ComfyProtocolException ex)
                {
                    SessionLog.BadFrame(_logger, Client.BaseAddress, ex);
                }

                count = 0;
                if (pooled is not null)
                {
                    ArrayPool<byte>.Shared.Return(pooled);
                    pooled = null;
                }

                if (ev is not null)
                {
                    Dispatch(ev);
                }
            }
        }
        finally
        {
            if (pooled is not null)
            {
                ArrayPool<byte>.Shared.Return(pooled);
            }
        }
    }

    /// <summary>Applies one event: session state, listeners, then the prompt's subscription.</summary>
    internal void Dispatch(ComfyEvent ev)
    {
        Interlocked.Increment(ref _eventsReceived);
        switch (ev)
        {
            case ComfyStatusEvent status:
                QueueRemaining = status.QueueRemaining ?? QueueRemaining;
                break;
            case ComfyFeatureFlagsEvent flags:
                ServerFeatures = flags.Features;
                Volatile.Read(ref _helloAnswered).TrySetResult();
                break;
            case ComfyExecutionStartEvent start:
                _currentPromptId = start.PromptId;
                break;
            case ComfyPreviewImageEvent or ComfyProgressTextEvent when ev.PromptId is null:
                // Type 1 previews and type 3 text do not name their prompt; one prompt runs at a
                // time per worker, so they belong to the one that started last.
                ev = ev with { PromptId = _currentPromptId };
                break;
        }

        foreach (var listener in _listeners)
        {
            listener(ev);
        }

        if (ev.PromptId is { } promptId && _subscriptions.TryGetValue(promptId, out var subscription))
        {
            subscription.OnEvent(ev);
        }

        if (ev is ComfyExecutingEvent { IsPromptDone: true } done && done.PromptId == _currentPromptId)
        {
            _currentPromptId = null;
        }
    }

    private void OnDisconnected(Exception? error)
    {
        DisconnectedSince = _timeProvider.GetUtcNow();
        _currentPromptId = null;
        lock (_stateGate)
        {
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        // State before the sweep: a prompt subscribing from now on sees Reconnecting and polls (see
        // Subscribe); one that subscribed before is in the sweep. The other order left a gap in which a
        // new subscription saw Connected, was not polled, and waited for events that never came.
        SetState(ComfySessionState.Reconnecting, error);
        foreach (var subscription in _subscriptions.Values)
        {
            BeginPolling(subscription);
        }
    }

    private void SetState(ComfySessionState state, Exception? error)
    {
        ComfySessionState previous;
        lock (_stateGate)
        {
            previous = _state;
            if (previous == state || previous == ComfySessionState.Stopped)
            {
                return;
            }

            _state = state;
            if (state == ComfySessionState.Connected)
            {
                _connected.TrySetResult();
            }
        }

        StateChanged?.Invoke(this, new ComfySessionStateChangedEventArgs(previous, state, error));
    }

    // ---------------------------------------------------------------- completion

    internal void FinishFromEvents(ComfyPromptSubscription subscription, ComfyPromptOutcome outcome, ComfyExecutionErrorEvent? error, ComfyExecutionInterruptedEvent? interrupted)
    {
        _ = FinishFromEventsAsync(subscription, outcome, error, interrupted);
    }

    private async Task FinishFromEventsAsync(ComfyPromptSubscription subscription, ComfyPromptOutcome outcome, ComfyExecutionErrorEvent? error, ComfyExecutionInterruptedEvent? interrupted)
    {
        // Every executed message of a prompt whose whole life came over this connection reached us,
        // and a server that answered the feature_flags hello (0.3.44+) sends executed for cached
        // output nodes too: those messages name what the history entry would (docs/comfyui-protocol.md §5.6).
        if (outcome == ComfyPromptOutcome.Success && !subscription.EventsMayBeLost && Volatile.Read(ref _helloAnswered).Task.IsCompletedSuccessfully)
        {
            subscription.Complete(new ComfyPromptCompletion(subscription.PromptId, outcome, null, error, interrupted, false) { Outputs = subscription.Outputs });
            return;
        }

        // executing(null) is sent after the history entry is stored (docs/comfyui-protocol.md §5.6), so one GET suffices.
        ComfyHistoryEntry? history = null;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, subscription.DisposedToken);
            history = await Client.GetHistoryAsync(subscription.PromptId, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            subscription.Cancel();
            return;
        }
        catch (ObjectDisposedException)
        {
            subscription.Cancel();
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or ComfyHttpException)
        {
            SessionLog.HistoryFetchFailed(_logger, subscription.PromptId, ex);
        }

        subscription.Complete(new ComfyPromptCompletion(subscription.PromptId, outcome, history, error, interrupted, false));
    }

    private void BeginPolling(ComfyPromptSubscription subscription)
    {
        if (!subscription.StartPolling())
        {
            return;
        }

        SessionLog.PollingHistory(_logger, subscription.PromptId);
        _ = PollHistoryAsync(subscription);
    }

    private async Task PollHistoryAsync(ComfyPromptSubscription subscription)
    {
        CancellationTokenSource linked;
        try
        {
            linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, subscription.DisposedToken);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        using (linked)
        {
            await PollHistoryAsync(subscription, linked.Token).ConfigureAwait(false);
        }
    }

    private async Task PollHistoryAsync(ComfyPromptSubscription subscription, CancellationToken token)
    {

        var absentStreak = 0;
        while (!token.IsCancellationRequested && !subscription.Completion.IsCompleted)
        {
            try
            {
                var entry = await Client.GetHistoryAsync(subscription.PromptId, token).ConfigureAwait(false);
                if (entry is not null)
                {
                    subscription.Complete(ComfyPromptCompletion.FromHistory(subscription.PromptId, entry));
                    return;
                }

                if (subscription.IsSubmitted)
                {
                    var queue = await Client.GetQueueAsync(token).ConfigureAwait(false);
                    if (queue.Contains(subscription.PromptId))
                    {
                        absentStreak = 0;
                    }
                    else
                    {
                        // It may have finished between the two calls: look again before counting.
                        entry = await Client.GetHistoryAsync(subscription.PromptId, token).ConfigureAwait(false);
                        if (entry is not null)
                        {
                            subscription.Complete(ComfyPromptCompletion.FromHistory(subscription.PromptId, entry));
                            return;
                        }

                        if (++absentStreak >= 2)
                        {
                            subscription.Complete(new ComfyPromptCompletion(subscription.PromptId, ComfyPromptOutcome.Lost, null, null, null, true));
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException or ComfyHttpException)
            {
                SessionLog.PollFailed(_logger, subscription.PromptId, ex);
            }

            try
            {
                await Task.Delay(_options.HistoryPollInterval, _timeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_stateGate)
        {
            loop = _loop;
        }

        SetState(ComfySessionState.Stopped, null);
        await _stop.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        lock (_stateGate)
        {
            _connected.TrySetException(new ObjectDisposedException(nameof(ComfySession)));
        }

        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Cancel();
        }

        _stop.Dispose();
    }

    private sealed class Listener(ComfySession session, Action<ComfyEvent> listener) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                session.StopListening(listener);
            }
        }
    }
}
