namespace ComfyOperator.Comfy.Client;

/// <summary>How a prompt ended.</summary>
public enum ComfyPromptOutcome
{
    /// <summary>execution_success (or history status "success").</summary>
    Success,

    /// <summary>execution_error: a node raised.</summary>
    Error,

    /// <summary>execution_interrupted.</summary>
    Interrupted,

    /// <summary>
    /// Neither queued nor in history: deleted while pending, or the worker restarted and forgot it
    /// (history is memory only, §3.6).
    /// </summary>
    Lost,
}
