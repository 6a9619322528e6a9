using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Comfy.Client;

/// <summary>The <c>status</c> of a history entry; <see cref="Messages"/> are the run's execution_* events.</summary>
public sealed record ComfyHistoryStatus(string? StatusStr, bool Completed, IReadOnlyList<ComfyEvent> Messages)
{
    /// <summary>The outcome this status stands for (docs/comfyui-protocol.md §3.6: interrupt is "error" with an execution_interrupted message).</summary>
    public ComfyPromptOutcome Outcome
    {
        get
        {
            if (StatusStr == "success" || (StatusStr is null && Completed))
            {
                return ComfyPromptOutcome.Success;
            }

            return Messages.Any(m => m is ComfyExecutionInterruptedEvent)
                ? ComfyPromptOutcome.Interrupted
                : ComfyPromptOutcome.Error;
        }
    }

    /// <summary>The execution_error payload, when the run failed with one.</summary>
    public ComfyExecutionErrorEvent? Error => Messages.OfType<ComfyExecutionErrorEvent>().LastOrDefault(e => !e.IsBlocked);

    /// <summary>The execution_interrupted payload, when the run was interrupted.</summary>
    public ComfyExecutionInterruptedEvent? Interrupted => Messages.OfType<ComfyExecutionInterruptedEvent>().LastOrDefault();
}
