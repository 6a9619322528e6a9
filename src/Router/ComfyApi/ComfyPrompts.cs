using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// ComfyUI's WebSocket for the whole fleet: which client id each <c>POST /prompt</c> run belongs to,
/// and each client id's open socket. A run's worker messages (from <see cref="WorkerMessageFeed"/>) go
/// to its client with the prompt id the client was given; the end of a prompt
/// (<c>execution_success</c>/<c>_error</c>/<c>_interrupted</c>, then <c>executing</c> with
/// <c>node: null</c>) is sent when the run ends in the router, after its outputs are stored, so a client
/// that reads <c>/history</c> and <c>/view</c> on that message finds them. <c>status</c> follows each
/// client's own queue. A client never receives another client's prompts.
/// </summary>
internal sealed class ComfyPrompts(WorkerMessageFeed feed, TimeProvider time) : IRunEventObserver
{
    private readonly ConcurrentDictionary<string, ComfyPrompt> _prompts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ComfyClientConnection> _connections = new(StringComparer.Ordinal);

    public ComfyPrompt? Find(string runId) => _prompts.GetValueOrDefault(runId);

    /// <summary>
    /// Follows run <paramref name="runId"/> for <paramref name="clientId"/>; called before the run is
    /// submitted, so no message of it can come first. <see cref="Forget"/> undoes it when the submission is refused.
    /// </summary>
    public ComfyPrompt Track(string runId, string? clientId, string? owner, JsonObject extraData)
    {
        var prompt = new ComfyPrompt(runId, clientId, owner, extraData);
        _prompts[runId] = prompt;
        prompt.Listening = feed.Listen(runId, message => OnWorkerMessage(prompt, message));
        return prompt;
    }

    public void Forget(string runId)
    {
        if (_prompts.TryRemove(runId, out var prompt))
        {
            prompt.Listening?.Dispose();
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

    public void OnEvent(RunRecord run, RunEvent runEvent)
    {
        if (!_prompts.TryGetValue(run.Id, out var prompt))
        {
            return;
        }

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
                End(prompt, run, runEvent);
                break;
        }
    }

    private void OnWorkerMessage(ComfyPrompt prompt, ComfyEvent message)
    {
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
        }

        if (ConnectionOf(prompt) is { } connection
            && ComfyMessages.From(message, prompt.RunId, connection.PreviewMetadata, output => prompt.Rewrite(output, (message as ComfyExecutedEvent)?.Node)) is { } frame)
        {
            connection.Send(frame);
        }
        else if (message is ComfyExecutedEvent executed)
        {
            // Nobody is listening now, but /view must still know the files by the names /history will give.
            prompt.Rewrite(executed.Output, executed.Node);
        }
    }

    private void End(ComfyPrompt prompt, RunRecord run, RunEvent runEvent)
    {
        Forget(prompt.RunId);
        if (ConnectionOf(prompt) is not { } connection)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        switch (runEvent.Type)
        {
            case RunEventTypes.Succeeded:
                connection.Send(ComfyMessages.Success(run.Id, now));
                break;
            case RunEventTypes.Failed:
                connection.Send(prompt.HeldEnd is ComfyExecutionErrorEvent error
                    ? ComfyMessages.From(error, run.Id, false, static o => o)!
                    : ComfyMessages.Error(run.Id, run.Failure?.NodeId, run.Failure?.NodeType, run.Failure?.Message ?? run.Reason ?? "The run failed.", run.Failure?.ExceptionType ?? run.Failure?.Code ?? "RouterError", now));
                break;
            case RunEventTypes.Cancelled when prompt.Started || prompt.HeldEnd is not null:
                connection.Send(prompt.HeldEnd is ComfyExecutionInterruptedEvent interrupted
                    ? ComfyMessages.Interrupted(run.Id, interrupted.NodeId, interrupted.NodeType, interrupted.Executed, interrupted.Timestamp)
                    : ComfyMessages.Interrupted(run.Id, null, null, [], now));
                break;
            default:
                // Cancelled before it started: like a prompt deleted from ComfyUI's queue, it sends nothing but the queue change.
                SendStatus(prompt);
                return;
        }

        SendStatus(prompt);
        connection.Send(ComfyMessages.Done(run.Id));
    }

    private ComfyClientConnection? ConnectionOf(ComfyPrompt prompt) =>
        prompt.ClientId is { } clientId && _connections.TryGetValue(ComfyClientConnection.KeyOf(prompt.Owner, clientId), out var connection) ? connection : null;

    private void SendStatus(ComfyPrompt prompt)
    {
        if (ConnectionOf(prompt) is { } connection)
        {
            connection.Send(ComfyMessages.Status(QueueOf(prompt.Owner, connection.ClientId), null));
        }
    }

    /// <summary>The client's prompts that have not finished.</summary>
    private int QueueOf(string? owner, string clientId) => _prompts.Values.Count(p => p.ClientId == clientId && p.Owner == owner);
}
