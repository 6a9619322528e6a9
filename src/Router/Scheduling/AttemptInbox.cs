using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// What a <see cref="RunAttempt"/> waits for: its prompt's events, in the order the worker's receive loop
/// adds them, and wake-ups (a cancel, a lost worker, the prompt's completion, the attempt's tick, shutdown).
/// One reader waits on one reusable signal, so an event costs no allocation, no timer and no lock; several
/// wake-ups before the reader looks count as one.
/// </summary>
internal sealed class AttemptInbox : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;

    private readonly ConcurrentQueue<ComfyEvent> _events = new();
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private int _state;
    private ITimer? _tick;
    private CancellationTokenRegistration _stopping;

    /// <summary>True while no event waits to be read.</summary>
    public bool IsEmpty => _events.IsEmpty;

    /// <summary>Adds an event (the worker's receive loop) and wakes the reader.</summary>
    public void Add(ComfyEvent ev)
    {
        _events.Enqueue(ev);
        Wake();
    }

    public bool TryRead(out ComfyEvent ev) => _events.TryDequeue(out ev!);

    /// <summary>
    /// From now until <see cref="Stop"/>, also wakes the reader every <paramref name="tick"/> (to check its
    /// deadlines), when <paramref name="completion"/> completes and when <paramref name="stop"/> fires.
    /// </summary>
    public void Start(Task completion, TimeSpan tick, TimeProvider time, CancellationToken stop)
    {
        completion.ContinueWith(static (_, inbox) => ((AttemptInbox)inbox!).Wake(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _stopping = stop.UnsafeRegister(static inbox => ((AttemptInbox)inbox!).Wake(), this);
        _tick = time.CreateTimer(static inbox => ((AttemptInbox)inbox!).Wake(), this, tick, tick);
    }

    /// <summary>Ends the reader's current or next wait (the reader goes on on the thread pool: the caller is never held up).</summary>
    public void Wake()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _signal.SetResult(true);
                    return;
                case Idle when Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle:
                case Signalled:
                    return;
            }
        }
    }

    /// <summary>Waits until a wake-up since the last wait (the reader alone calls this, one wait at a time).</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
        {
            return ValueTask.CompletedTask;
        }

        _signal.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) != Idle)
        {
            // Woken between the two exchanges.
            Volatile.Write(ref _state, Idle);
            return ValueTask.CompletedTask;
        }

        return new ValueTask(this, _signal.Version);
    }

    void IValueTaskSource.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);

    /// <summary>Ends what <see cref="Start"/> began: the reader no longer waits.</summary>
    public void Stop()
    {
        _tick?.Dispose();
        _stopping.Dispose();
    }
}
