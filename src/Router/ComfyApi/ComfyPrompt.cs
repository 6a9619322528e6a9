using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.Outputs;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// A run submitted through <c>POST /prompt</c> (on this replica or another) that has not finished: whose client gets its messages,
/// the worker's failing end-of-prompt messages held until the run has ended in the router, and the worker
/// files its <c>executed</c> messages named (so <c>/view</c> can serve them before they are stored).
/// </summary>
/// <param name="answered">
/// Whether the client has its <c>POST /prompt</c> answer (or the prompt was submitted elsewhere); if not, the prompt's
/// frames wait for <see cref="Answered"/>.
/// </param>
internal sealed class ComfyPrompt(string runId, string? clientId, string? owner, bool answered = true)
{
    private readonly ConcurrentDictionary<string, ComfyFileRef> _files = new(StringComparer.Ordinal);
    private readonly Lock _namesGate = new();

    /// <summary>
    /// The frames for the prompt's client while its <c>POST /prompt</c> answer is not written (null once it is). The
    /// prompt can be on a worker before the answer goes out, and a fast one over by then; but ComfyUI answers before it
    /// sends anything of the prompt, and clients start listening for the prompt's id on that answer.
    /// </summary>
    private Queue<(ComfyClientConnection Connection, ComfyFrame Frame)>? _unanswered = answered ? null : new();
    private readonly Lock _answerGate = new();

    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The last run event seen, so events handed again at a reconciliation are not sent twice.</summary>
    private long _lastSequence;

    public string RunId => runId;

    public string? ClientId => clientId;

    public string? Owner => owner;

    /// <summary>The feed registration of the run's worker messages (disposed when the run ends).</summary>
    public IDisposable? Listening { get; set; }

    /// <summary>The worker's <c>execution_error</c> or <c>execution_interrupted</c>, sent once the run has ended in the router.</summary>
    public ComfyEvent? HeldEnd { get; set; }

    public bool Started { get; set; }

    /// <summary>
    /// The client was told the prompt ended (its worker ended it with success) before the run's end was written:
    /// the prompt has left the client's queue, and <c>/history</c> and <c>/view</c> wait for <see cref="Ended"/>.
    /// </summary>
    public bool EndSent { get; set; }

    /// <summary>Completes when the router is done with the prompt: its run ended (or it is no longer followed).</summary>
    public Task Ended => _ended.Task;

    /// <summary>This replica drives the prompt's attempt now (it dispatched it or follows it on a worker it holds): its worker's messages reach it.</summary>
    public bool DrivenHere { get; set; }

    /// <summary>Rebuilds the worker's messages from the run events of an attempt another replica drives.</summary>
    public ComfyRunEventMessages Relayed { get; } = new();

    /// <summary>Takes <paramref name="sequence"/> as seen; false when it (or a later one) was seen already.</summary>
    public bool Advance(long sequence)
    {
        var seen = Interlocked.Read(ref _lastSequence);
        while (sequence > seen)
        {
            var found = Interlocked.CompareExchange(ref _lastSequence, sequence, seen);
            if (found == seen)
            {
                return true;
            }

            seen = found;
        }

        return false;
    }

    public ComfyFileRef? WorkerFile(string name) => _files.GetValueOrDefault(name);

    /// <summary>Whether an <c>executed</c> message named <paramref name="file"/> already.</summary>
    public bool Named(ComfyFileRef file) => _files.Values.Contains(file);

    public void MarkEnded() => _ended.TrySetResult();

    /// <summary>Sends <paramref name="frame"/> about this prompt to <paramref name="connection"/>, once the client has its <c>POST /prompt</c> answer.</summary>
    public void Send(ComfyClientConnection connection, ComfyFrame frame)
    {
        if (Volatile.Read(ref _unanswered) is not null)
        {
            lock (_answerGate)
            {
                if (_unanswered is { } held)
                {
                    // As the connection's own buffer: bounded, the oldest goes.
                    if (held.Count == ComfyClientConnection.BufferedFrames)
                    {
                        held.Dequeue();
                    }

                    held.Enqueue((connection, frame));
                    return;
                }
            }
        }

        connection.Send(frame);
    }

    /// <summary>The <c>POST /prompt</c> answer is written: the frames held meanwhile go out, in order, before any later one.</summary>
    public void Answered()
    {
        lock (_answerGate)
        {
            if (_unanswered is not { } held)
            {
                return;
            }

            foreach (var (connection, frame) in held)
            {
                connection.Send(frame);
            }

            Volatile.Write(ref _unanswered, null);
        }
    }

    /// <summary>
    /// The <c>executed</c> output with each file named as the router names the run's outputs (subfolder =
    /// the prompt id, the file name made safe as in the output store), so <c>/view</c> serves this run's file only.
    /// </summary>
    public JsonObject? Rewrite(JsonObject? output, string? nodeId)
    {
        if (output?.DeepClone() is not JsonObject copy)
        {
            return null;
        }

        foreach (var (_, value) in copy)
        {
            if (value is not JsonArray items)
            {
                continue;
            }

            foreach (var item in items.OfType<JsonObject>())
            {
                if (item["filename"]?.GetValueKind() != System.Text.Json.JsonValueKind.String)
                {
                    continue;
                }

                var original = new ComfyFileRef(
                    item["filename"]!.GetValue<string>(),
                    item["subfolder"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? item["subfolder"]!.GetValue<string>() : "",
                    item["type"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? item["type"]!.GetValue<string>() : "output");
                var name = NameOf(original, nodeId ?? "");
                item["filename"] = name;
                item["subfolder"] = runId;
            }
        }

        return copy;
    }

    /// <summary>The output name the run's attempt gives this file (its sanitized name, or node id + name when that is taken).</summary>
    private string NameOf(ComfyFileRef file, string nodeId)
    {
        lock (_namesGate)
        {
            var existing = _files.FirstOrDefault(p => p.Value == file).Key;
            if (existing is not null)
            {
                return existing;
            }

            var name = OutputNames.Sanitize(file.Filename);
            if (_files.ContainsKey(name))
            {
                name = OutputNames.Sanitize($"{nodeId}_{file.Filename}");
            }

            _files[name] = file;
            return name;
        }
    }
}
