using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// execution.py's PromptQueue: a binary min-heap of queue items, the running item, the in-memory history
/// (insertion ordered, capped), and the prompt counter of server.py. Every queue change broadcasts
/// <c>status</c> while holding the lock, so status frames leave in the order of the changes.
/// </summary>
internal sealed class PromptQueue(Action<int> onQueueChanged)
{
    private const int MaximumHistorySize = 10000;
    private readonly Lock _lock = new();
    private readonly List<QueueItem> _heap = [];
    private readonly OrderedDictionary<string, JsonObject> _history = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<bool> _notEmpty = System.Threading.Channels.Channel.CreateUnbounded<bool>();
    private QueueItem? _running;
    private long _counter;

    public QueueItem? Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Takes the next counter value (server.py increments before validating).</summary>
    public long TakeNumber()
    {
        lock (_lock)
        {
            return _counter++;
        }
    }

    public int Remaining
    {
        get
        {
            lock (_lock)
            {
                return _heap.Count + (_running is null ? 0 : 1);
            }
        }
    }

    public void Put(QueueItem item)
    {
        lock (_lock)
        {
            _heap.Add(item);
            SiftDown(0, _heap.Count - 1);
            onQueueChanged(RemainingLocked());
        }

        _notEmpty.Writer.TryWrite(true);
    }

    /// <summary>Waits for an item, pops the lowest one and marks it running.</summary>
    public async Task<QueueItem> DequeueAsync(Func<CancellationToken, Task> beforePop, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _notEmpty.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await beforePop(cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                if (_heap.Count == 0)
                {
                    continue;
                }

                var last = _heap[^1];
                _heap.RemoveAt(_heap.Count - 1);
                QueueItem top;
                if (_heap.Count > 0)
                {
                    top = _heap[0];
                    _heap[0] = last;
                    SiftUp(0);
                }
                else
                {
                    top = last;
                }

                _running = top;
                onQueueChanged(RemainingLocked());
                return top;
            }
        }
    }

    /// <summary>Stores the history entry, clears the running item, then broadcasts status (history exists before it).</summary>
    public void TaskDone(QueueItem item, JsonObject entry)
    {
        lock (_lock)
        {
            if (_history.Count > MaximumHistorySize)
            {
                _history.RemoveAt(0);
            }

            _history.Remove(item.PromptId);
            _history[item.PromptId] = entry;
            _running = null;
            onQueueChanged(RemainingLocked());
        }
    }

    public void WipeQueue()
    {
        lock (_lock)
        {
            _heap.Clear();
            onQueueChanged(RemainingLocked());
        }
    }

    public bool Delete(string promptId)
    {
        lock (_lock)
        {
            var index = _heap.FindIndex(i => i.PromptId == promptId);
            if (index < 0)
            {
                return false;
            }

            if (_heap.Count == 1)
            {
                // execution.py wipes the queue when deleting its only item, which broadcasts once more.
                _heap.Clear();
                onQueueChanged(RemainingLocked());
            }
            else
            {
                _heap.RemoveAt(index);
                Heapify();
            }

            onQueueChanged(RemainingLocked());
            return true;
        }
    }

    /// <summary>Forgets everything (a process restart).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _heap.Clear();
            _history.Clear();
            _running = null;
            _counter = 0;
        }
    }

    public JsonObject QueueJson()
    {
        lock (_lock)
        {
            return new JsonObject
            {
                ["queue_running"] = _running is null ? new JsonArray() : new JsonArray(_running.ToJson()),
                // A copy of the heap array, unsorted, like the real server.
                ["queue_pending"] = new JsonArray([.. _heap.Select(i => (JsonNode)i.ToJson())]),
            };
        }
    }

    public bool IsPending(string promptId)
    {
        lock (_lock)
        {
            return _heap.Any(i => i.PromptId == promptId);
        }
    }

    public JsonObject History(string? promptId, int? maxItems, int offset)
    {
        lock (_lock)
        {
            var result = new JsonObject();
            if (promptId is not null)
            {
                if (_history.TryGetValue(promptId, out var one))
                {
                    result[promptId] = one.DeepClone();
                }

                return result;
            }

            if (offset < 0 && maxItems is not null)
            {
                offset = _history.Count - maxItems.Value;
            }

            var i = 0;
            foreach (var (key, value) in _history)
            {
                if (i >= offset)
                {
                    result[key] = value.DeepClone();
                    if (maxItems is not null && result.Count >= maxItems.Value)
                    {
                        break;
                    }
                }

                i++;
            }

            return result;
        }
    }

    public void WipeHistory()
    {
        lock (_lock)
        {
            _history.Clear();
        }
    }

    public void DeleteHistory(string promptId)
    {
        lock (_lock)
        {
            _history.Remove(promptId);
        }
    }

    private int RemainingLocked() => _heap.Count + (_running is null ? 0 : 1);

    private void Heapify()
    {
        for (var i = (_heap.Count / 2) - 1; i >= 0; i--)
        {
            SiftUp(i);
        }
    }

    // heapq naming: _siftdown moves a new leaf up towards the root.
    private void SiftDown(int start, int pos)
    {
        var item = _heap[pos];
        while (pos > start)
        {
            var parentPos = (pos - 1) >> 1;
            var parent = _heap[parentPos];
            if (item.CompareTo(parent) < 0)
            {
                _heap[pos] = parent;
                pos = parentPos;
                continue;
            }

            break;
        }

        _heap[pos] = item;
    }

    // heapq naming: _siftup moves the item at pos down to a leaf, then back up.
    private void SiftUp(int pos)
    {
        var end = _heap.Count;
        var start = pos;
        var item = _heap[pos];
        var child = (2 * pos) + 1;
        while (child < end)
        {
            var right = child + 1;
            if (right < end && _heap[child].CompareTo(_heap[right]) >= 0)
            {
                child = right;
            }

            _heap[pos] = _heap[child];
            pos = child;
            child = (2 * pos) + 1;
        }

        _heap[pos] = item;
        SiftDown(start, pos);
    }
}
