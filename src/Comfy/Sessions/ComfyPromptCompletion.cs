using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Comfy.Sessions;

/// <summary>How a prompt ended, with its history entry (outputs) when the worker still had it.</summary>
/// <param name="PromptId">The prompt.</param>
/// <param name="Outcome">Success, Error, Interrupted, or Lost (neither queued nor in history).</param>
/// <param name="History">The history entry (null when Lost, or when fetching it failed).</param>
/// <param name="Error">The execution_error payload on Error.</param>
/// <param name="Interrupted">The execution_interrupted payload on Interrupted.</param>
/// <param name="FromHistoryPolling">True when the socket was lost and the outcome came from polling /history.</param>
public sealed record ComfyPromptCompletion(
    string PromptId,
    ComfyPromptOutcome Outcome,
    ComfyHistoryEntry? History,
    ComfyExecutionErrorEvent? Error,
    ComfyExecutionInterruptedEvent? Interrupted,
    bool FromHistoryPolling)
{
    /// <summary>The POST /prompt answer (set by <see cref="ComfySession.RunPromptAsync"/>).</summary>
    public ComfyPromptAccepted? Accepted { get; init; }

    /// <summary>Output files named by the history entry.</summary>
    public IReadOnlyList<ComfyFileRef> Files => History is null ? [] : [.. History.Files];

    internal static ComfyPromptCompletion FromHistory(string promptId, ComfyHistoryEntry entry) =>
        new(promptId, entry.Outcome, entry, entry.Status?.Error, entry.Status?.Interrupted, true);
}
