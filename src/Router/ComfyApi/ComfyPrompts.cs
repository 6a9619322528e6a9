using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Storage;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// ComfyUI's WebSocket for the whole fleet: which client id each <c>POST /prompt</c> run belongs to,
/// and each client id's open socket. A run's worker messages (from <see cref="WorkerMessageFeed"/>, on the
/// replica that drives it) go to its client with the prompt id the client was given. A prompt's successful end
/// (<c>execution_success</c>, then <c>executing</c> with <c>node: null</c>) is sent when its worker ends it, while
/// the router copies the outputs and writes the run's end; <c>/history</c> and <c>/view</c> wait for that write
/// (<see cref="WaitForEndsAsync"/>), so a client that reads them on that message finds the outputs. A failed or
/// interrupted end is sent when the run ends in the router (a lost attempt's is not the prompt's). <c>status</c>
/// follows each client's own queue. A client never receives another client's prompts, nor anything of a prompt before
/// its <c>POST /prompt</c> answer is written (<see cref="ComfyPrompt.Answered"/>), as with ComfyUI.
/// <para>
/// With active/active replicas every replica knows every unfinished prompt (its client id is in the run's
/// stored <c>extra_data</c>), so a client connected to any replica gets its prompts: a prompt another replica
/// drives reaches it as that replica's run events (<see cref="ComfyRunEventMessages"/>), through the same
/// mapping; there every end is sent when the run ends in the router.
/// </para>
/// </summary>
internal sealed class ComfyPrompts(WorkerMessageFeed feed, TimeProvider time, IOptions<StoreOptions> store) : IRunEventObserver, IRelayedRunObserver
{
    /// <summary>
    /// Whether a prompt's successful end is sent when its worker ends it (before the run's end is written). Not with
    /// active/active replicas: another replica's <c>/history</c> could not know to wait for the run's end.
    /// </summary>
    private readonly bool _endAtWorkerEnd = !store.Value.IsActiveActive;

    private readonly ConcurrentDictionary<string, ComfyPrompt> _prompts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ComfyClientConnection> _connections = new(StringComparer.Ordinal);
    private readonly RecentRunIds _ended = new(4096);

    /// <summary>Unfinished prompts per (owner, client id): the client's <c>queue_remaining</c>.</summary>
    private readonly ConcurrentDictionary<string, int> _queues = new(StringComparer.Ordinal);

    public ComfyPrompt? Find(string runId) => _prompts.GetValueOrDefault(runId);

    /// <summary>
    /// Follows run <paramref name="runId"/> for <paramref name="clientId"/>; called before the run is
    /// submitted, so no message of it can come first. Its messages wait for <see cref="ComfyPrompt.Answered"/> (the
    /// <c>POST /prompt</c> answer written). <see cref="Forget"/> undoes it when the submission is refused.
    /// </summary>
    public ComfyPrompt Track(string runId, string? clientId, string? owner)
    {
        Forget(runId);
        var prompt = new ComfyPrompt(runId, clientId, owner, answered: false);
        _prompts[runId] = prompt;
        Added(prompt);
        return prompt;
    }

    public void Forget(string runId)
    {
        if (_prompts.TryRemove(runId, out var prompt))
        {
            prompt.Listening?.Dispose();
            if (!prompt.EndSent)
            {
                CountQueued(prompt, -1);
            }

            prompt.MarkEnded();
        }
    }

    /// <summary>
    /// Whether the client of run <paramref name="runId"/> was told it ended (the run's end may not be written yet), or the run
    /// has ended here since: it has left the queue. Once true it stays true, so a run read as unfinished from the store just
    /// before its end was written is not shown in the queue again.
    /// </summary>
    public bool EndSent(string runId) => _prompts.TryGetValue(runId, out var prompt) ? prompt.EndSent : _ended.Contains(runId);

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until the runs whose end their client was told, among <paramref name="runIds"/>
    /// (all of <paramref name="owner"/>'s when null), have ended in the router too: what <c>/history</c> and <c>/view</c> read
    /// then is what that end promised.
    /// </summary>
    public async Task WaitForEndsAsync(string? owner, IReadOnlyCollection<string>? runIds, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ends = (runIds is null ? _prompts.Values.Where(p => p.Owner == owner) : runIds.Select(Find).OfType<ComfyPrompt>())
            .Where(p => p.EndSent)
            .Select(p => p.Ended)
            .ToList();
        if (ends.Count == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(ends).WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Answered as the store has the runs now.
        }
    }

    /// <summary>Registers a client's socket (a reconnect with the same id takes over) and sends the first <c>status</c>.</summary>
    public void Connect(ComfyClientConnection connection)
    {
        _connections[connection.Key] = connection;
        connection.Send(ComfyMessages.Status(QueueOf(connection.Owner, connection.ClientId), connection.ClientId));
    }

    /// <summary>Removes the socket unless a newer one took its place.</summary>
    public void Disconnect(ComfyClientConnection connection) =>
        _connections.TryRemove(new KeyValuePair<string, ComfyClientConnection>(connection.Key, connection));

    /// <summary>An event this replica wrote.</summary>
    public void OnEvent(RunRecord run, RunEvent runEvent)
    {
        if (!_prompts.TryGetValue(run.Id, out var prompt))
        {
            return;
        }

        prompt.Advance(runEvent.Sequence);
        switch (runEvent.Type)
        {
            case RunEventTypes.Dispatching or RunEventTypes.Started or RunEventTypes.Progress or RunEventTypes.Preview:
                // Only the replica that has the attempt on a worker writes these: its worker's messages reach this one.
                prompt.DrivenHere = true;
                break;
            case RunEventTypes.Requeued:
                prompt.DrivenHere = false;
                break;
        }

        OnRunEvent(prompt, runEvent, run.Failure, run.Reason);
    }

    public bool Follows(string runId) => _prompts.ContainsKey(runId);

    public IEnumerable<string> FollowedRunIds() => _prompts.Keys;

    /// <summary>A prompt submitted through another replica (its client id is in the stored <c>extra_data</c>) is followed here too.</summary>
    public void OnStoredRun(RunRecord run, long handledThrough)
    {
        if (run.Status.IsTerminal() || run.ExtraData is null || _prompts.ContainsKey(run.Id) || _ended.Contains(run.Id)
            || ComfyHistory.ExtraData(run)?["client_id"] is not { } clientId || clientId.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        var prompt = new ComfyPrompt(run.Id, clientId.GetValue<string>(), run.Owner) { Started = run.StartedAt is not null };
        prompt.Advance(handledThrough);
        if (_prompts.TryAdd(run.Id, prompt))
        {
            Added(prompt);
        }
    }

    /// <summary>An event another replica wrote.</summary>
    public void OnRelayed(RunEvent runEvent)
    {
        if (!_prompts.TryGetValue(runEvent.RunId, out var prompt) || !prompt.Advance(runEvent.Sequence))
        {
            return;
        }

        switch (runEvent.Type)
        {
            case RunEventTypes.Dispatching or RunEventTypes.Started or RunEventTypes.Requeued:
                // Another replica has the attempt (or none has): its worker's messages do not come here.
                prompt.DrivenHere = false;
                break;
        }

        if (!prompt.DrivenHere)
        {
            // The feed's notifications and its reconciliation hand events from two tasks.
            lock (prompt.Relayed)
            {
                foreach (var message in prompt.Relayed.From(runEvent, prompt.RunId))
                {
                    OnWorkerMessage(prompt, message, rewriteOutput: false);
                }
            }
        }

        var failure = runEvent.Type == RunEventTypes.Failed ? ComfyRunEventMessages.FailureOf(runEvent) : null;
        OnRunEvent(prompt, runEvent, failure, failure?.Message);
    }

    private void OnRunEvent(ComfyPrompt prompt, RunEvent runEvent, RunFailure? failure, string? reason)
    {
        switch (runEvent.Type)
        {
            case RunEventTypes.Queued:
                SendStatus(prompt);
                break;
            case RunEventTypes.Requeued:
                // The lost attempt's end (if any) is not this prompt's: the next attempt starts it again.
                prompt.HeldEnd = null;
                break;
            case RunEventTypes.Succeeded or RunEventTypes.Failed or RunEventTypes.Cancelled:
                End(prompt, runEvent.Type, failure, reason);
                break;
        }
    }

    /// <summary>Counts a prompt just followed, and listens to its worker's messages should this replica drive it (now, later, or by taking over its worker).</summary>
    private void Added(ComfyPrompt prompt)
    {
        CountQueued(prompt, 1);
        prompt.Listening = feed.Listen(prompt.RunId, message => OnWorkerMessage(prompt, message, rewriteOutput: true), outputs => OnWorkerSucceeded(prompt, outputs));
    }

    /// <summary>
    /// The prompt's worker ended it with success: its client gets the end now (with an <c>executed</c> for each output no
    /// such message named yet), as ComfyUI sends it once the history entry exists, while the router still copies the
    /// outputs and writes the run's end; until then <c>/history</c> and <c>/view</c> wait for it (<see cref="WaitForEndsAsync"/>).
    /// </summary>
    private void OnWorkerSucceeded(ComfyPrompt prompt, IReadOnlyList<(string NodeId, ComfyFileRef File)> outputs)
    {
        if (!_endAtWorkerEnd || prompt.EndSent || !_prompts.ContainsKey(prompt.RunId))
        {
            return;
        }

        foreach (var node in outputs.Where(o => !prompt.Named(o.File)).GroupBy(o => o.NodeId, StringComparer.Ordinal))
        {
            var output = new JsonObject();
            foreach (var (_, file) in node)
            {
                ComfyHistory.AddFile(output, OutputNames.ContentType(file.Filename), file.Filename, file.Subfolder, file.Type);
            }

            OnWorkerMessage(prompt, new ComfyExecutedEvent(node.Key, node.Key, output, [.. node.Select(o => o.File)]), rewriteOutput: true);
        }

        prompt.EndSent = true;
        CountQueued(prompt, -1);
        if (ConnectionOf(prompt) is { } connection)
        {
            prompt.Send(connection, ComfyMessages.Success(prompt.RunId, time.GetUtcNow().ToUnixTimeMilliseconds()));
            prompt.Send(connection, ComfyMessages.Status(QueueOf(prompt.Owner, connection.ClientId), null));
            prompt.Send(connection, ComfyMessages.Done(prompt.RunId));
        }
    }

    private void CountQueued(ComfyPrompt prompt, int delta)
    {
        if (prompt.ClientId is not { } clientId)
        {
            return;
        }

        var key = ComfyClientConnection.KeyOf(prompt.Owner, clientId);
        if (_queues.AddOrUpdate(key, delta, (_, count) => count + delta) == 0)
        {
            _queues.TryRemove(new KeyValuePair<string, int>(key, 0));
        }
    }

    /// <param name="prompt">The prompt the message is about.</param>
    /// <param name="message">The worker's message, or one rebuilt from another replica's run event.</param>
    /// <param name="rewriteOutput">
    /// Names an <c>executed</c> output's files as <c>/view</c> serves them (a worker's message; a rebuilt one has them named already).
    /// </param>
    private void OnWorkerMessage(ComfyPrompt prompt, ComfyEvent message, bool rewriteOutput)
    {
        JsonObject? output = null;
        switch (message)
        {
            case ComfyExecutionErrorEvent { ExceptionType: not "ExecutionBlocked" } or ComfyExecutionInterruptedEvent:
                prompt.HeldEnd = message;
                return;
            case ComfyExecutionSuccessEvent or ComfyExecutingEvent { Node: null }:
                return;
            case ComfyExecutionStartEvent:
                prompt.Started = true;
                break;
            case ComfyExecutedEvent executed:
                // Whether or not anyone listens now: /view must know the files by the names /history will give.
                output = rewriteOutput ? prompt.Rewrite(executed.Output, executed.Node) : executed.Output;
                break;
        }

        if (ConnectionOf(prompt) is { } connection
            && ComfyMessages.From(message, prompt.RunId, connection.PreviewMetadata, output) is { } frame)
        {
            prompt.Send(connection, frame);
        }
    }

    private void End(ComfyPrompt prompt, string type, RunFailure? failure, string? reason)
    {
        // A reconciliation that listed the run before it ended must not take it up again.
        _ended.Add(prompt.RunId);
        Forget(prompt.RunId);
        if (prompt.EndSent || ConnectionOf(prompt) is not { } connection)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        switch (type)
        {
            case RunEventTypes.Succeeded:
                prompt.Send(connection, ComfyMessages.Success(prompt.RunId, now));
                break;
            case RunEventTypes.Failed:
                prompt.Send(connection, prompt.HeldEnd is ComfyExecutionErrorEvent error
                    ? ComfyMessages.From(error, prompt.RunId, false, null)!
                    : ComfyMessages.Error(prompt.RunId, failure?.NodeId, failure?.NodeType, failure?.Message ?? reason ?? "The run failed.", failure?.ExceptionType ?? failure?.Code ?? "RouterError", now));
                break;
            case RunEventTypes.Cancelled when prompt.Started || prompt.HeldEnd is not null:
                prompt.Send(connection, prompt.HeldEnd is ComfyExecutionInterruptedEvent interrupted
                    ? ComfyMessages.Interrupted(prompt.RunId, interrupted.NodeId, interrupted.NodeType, interrupted.Executed, interrupted.Timestamp)
                    : ComfyMessages.Interrupted(prompt.RunId, null, null, [], now));
                break;
            default:
                // Cancelled before it started: like a prompt deleted from ComfyUI's queue, it sends nothing but the queue change.
                SendStatus(prompt);
                return;
        }

        SendStatus(prompt);
        prompt.Send(connection, ComfyMessages.Done(prompt.RunId));
    }

    private ComfyClientConnection? ConnectionOf(ComfyPrompt prompt) =>
        prompt.ClientId is { } clientId && _connections.TryGetValue(ComfyClientConnection.KeyOf(prompt.Owner, clientId), out var connection) ? connection : null;

    private void SendStatus(ComfyPrompt prompt)
    {
        if (ConnectionOf(prompt) is { } connection)
        {
            prompt.Send(connection, ComfyMessages.Status(QueueOf(prompt.Owner, connection.ClientId), null));
        }
    }

    /// <summary>The client's prompts that have not finished.</summary>
    private int QueueOf(string? owner, string clientId) => _queues.GetValueOrDefault(ComfyClientConnection.KeyOf(owner, clientId));
}
