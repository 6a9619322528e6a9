using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Comfy.Sessions;

/// <summary>How a prompt ended, with its history entry (outputs) when the worker still had it.</summary>
/// <param name="PromptId">The prompt.</param>
/// <param name="Outcome">Success, Error, Interrupted, or Lost (neither queued nor in history).</param>
/// <param name="History">The history entry (null when Lost, when fetching it failed, or when it was not needed: see <see cref="Outputs"/>).</param>
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

    private readonly IReadOnlyList<ComfyNodeOutput>? _outputs;

    /// <summary>
    /// Node id → UI output: the history entry's, or, for a success followed over one unbroken
    /// connection to a server that reports cached output nodes too, what its <c>executed</c>
    /// messages named (the same list; /history is then not fetched).
    /// </summary>
    public IReadOnlyList<ComfyNodeOutput> Outputs
    {
        get => _outputs ?? History?.Outputs ?? [];
        init => _outputs = value;
    }

    /// <summary>Output files named by <see cref="Outputs"/>.</summary>
    public IReadOnlyList<ComfyFileRef> Files => [.. Outputs.SelectMany(o => o.Files)];

    internal static ComfyPromptCompletion FromHistory(string promptId, ComfyHistoryEntry entry) =>
        new(promptId, entry.Outcome, entry, entry.Status?.Error, entry.Status?.Interrupted, true);
}
