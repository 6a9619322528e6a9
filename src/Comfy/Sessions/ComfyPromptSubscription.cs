using System.Threading.Channels;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Comfy.Sessions;

/// <summary>
/// The events and the completion of one prompt on a <see cref="ComfySession"/>. Subscribe before
/// POSTing the prompt so no event is missed; dispose when done.
/// </summary>
public sealed class ComfyPromptSubscription : IDisposable
{
    private readonly ComfySession _session;
    private readonly Action<ComfyEvent>? _sink;
    private readonly Channel<ComfyEvent> _events = Channel.CreateUnbounded<ComfyEvent>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly TaskCompletionSource<ComfyPromptCompletion> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private ComfyExecutionErrorEvent? _error;
    private ComfyExecutionInterruptedEvent? _interrupted;
    private List<ComfyNodeOutput>? _outputs;
    private bool _done;
    private int _polling;
    private volatile bool _submitted;

    /// <param name="session">The session whose receive loop delivers the events.</param>
    /// <param name="promptId">The prompt.</param>
    /// <param name="sink">
    /// Takes each event on the receive loop instead of <see cref="Events"/> (which then stays empty): no queue
    /// and no reader between the socket and the caller. Called in order, before <see cref="Completion"/>
    /// completes; it must be quick and must not throw.
    /// </param>
    internal ComfyPromptSubscription(ComfySession session, string promptId, Action<ComfyEvent>? sink = null)
    {
        _session = session;
        _sink = sink;
        PromptId = promptId;
    }

    public string PromptId { get; }

    /// <summary>Completes when the prompt is done (history ready) or known lost.</summary>
    public Task<ComfyPromptCompletion> Completion => _completion.Task;

    /// <summary>Events of this prompt in arrival order (unless they go to a sink); ends when the prompt completes.</summary>
    public ChannelReader<ComfyEvent> Events => _events.Reader;

    /// <summary>True once the socket this prompt was submitted on dropped: the outcome then comes from /history.</summary>
    public bool EventsMayBeLost => Volatile.Read(ref _polling) != 0;

    internal CancellationToken DisposedToken => _disposed.Token;

    internal bool IsSubmitted => _submitted;

    /// <summary>Reads events until the prompt completes.</summary>
    public IAsyncEnumerable<ComfyEvent> ReadEventsAsync(CancellationToken cancellationToken = default) =>
        _events.Reader.ReadAllAsync(cancellationToken);

    /// <summary>
    /// Says the POST /prompt succeeded. Only then may history polling conclude "Lost" from a prompt
    /// that is neither queued nor in history (before, it may simply not be sent yet).
    /// </summary>
    public void MarkSubmitted() => _submitted = true;

    internal void OnEvent(ComfyEvent ev)
    {
        bool finished;
        lock (_gate)
        {
            if (_done)
            {
                return;
            }

            switch (ev)
            {
                case ComfyExecutionErrorEvent { IsBlocked: false } error:
                    _error = error;
                    break;
                case ComfyExecutionInterruptedEvent interrupted:
                    _interrupted = interrupted;
                    break;
                case ComfyExecutedEvent { Node: { } node, Output: { } output } executed:
                    AddOutput(new ComfyNodeOutput(node, executed.Files, output));
                    break;
            }

            // Under the gate: an event handed on is handed on before the completion (Complete takes the gate).
            if (_sink is { } sink)
            {
                sink(ev);
            }
            else
            {
                _events.Writer.TryWrite(ev);
            }

            finished = ev is ComfyExecutingEvent { IsPromptDone: true };
            if (finished)
            {
                _done = true;
                _events.Writer.TryComplete();
            }
        }

        if (finished)
        {
            // Before execution_success existed (2024-07) a clean run only ended with executing(null).
            var outcome = _error is not null ? ComfyPromptOutcome.Error
                : _interrupted is not null ? ComfyPromptOutcome.Interrupted
                : ComfyPromptOutcome.Success;
            _session.FinishFromEvents(this, outcome, _error, _interrupted);
        }
    }

    /// <summary>
    /// The UI outputs the <c>executed</c> messages named, keyed by node like a history entry's
    /// <c>outputs</c> (a node sent twice keeps its place and its last output).
    /// </summary>
    internal IReadOnlyList<ComfyNodeOutput> Outputs
    {
        get
        {
            lock (_gate)
            {
                return _outputs is null ? [] : [.. _outputs];
            }
        }
    }

    private void AddOutput(ComfyNodeOutput output)
    {
        _outputs ??= [];
        var index = _outputs.FindIndex(o => o.NodeId == output.NodeId);
        if (index >= 0)
        {
            _outputs[index] = output;
        }
        else
        {
            _outputs.Add(output);
        }
    }

    /// <summary>Marks the events as possibly lost; returns true the first time.</summary>
    internal bool StartPolling() => Interlocked.Exchange(ref _polling, 1) == 0;

    internal void Complete(ComfyPromptCompletion completion)
    {
        lock (_gate)
        {
            _done = true;
            _events.Writer.TryComplete();
        }

        _completion.TrySetResult(completion);
    }

    internal void Cancel()
    {
        lock (_gate)
        {
            _done = true;
            _events.Writer.TryComplete();
        }

        _completion.TrySetCanceled();
    }

    public void Dispose()
    {
        _session.Unsubscribe(this);
        lock (_gate)
        {
            _done = true;
            _events.Writer.TryComplete();
        }

        _completion.TrySetCanceled();
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
