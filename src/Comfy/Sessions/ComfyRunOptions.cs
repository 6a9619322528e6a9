using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Sessions;

/// <summary>Options of <see cref="ComfySession.RunPromptAsync"/>.</summary>
public sealed record ComfyRunOptions
{
    /// <summary>Our prompt id (a canonical lowercase UUID); a fresh one by default.</summary>
    public string? PromptId { get; init; }

    public JsonObject? ExtraData { get; init; }

    public bool Front { get; init; }

    public double? Number { get; init; }

    public IReadOnlyList<string>? PartialExecutionTargets { get; init; }

    /// <summary>
    /// Called for every event of the prompt, in order, before the run completes, on the session's receive
    /// loop as the event arrives (possibly before POST /prompt has answered): it must be quick and must not throw.
    /// </summary>
    public Action<Events.ComfyEvent>? OnEvent { get; init; }

    /// <summary>
    /// Awaited with the client id right before POST /prompt: the prompt's events will go to the socket of
    /// that id, so a caller can record it (another process can then listen under it after a restart).
    /// </summary>
    public Func<string, CancellationToken, Task>? Submitting { get; init; }

    /// <summary>On cancellation, interrupt the prompt if it runs and delete it if it is pending (best effort).</summary>
    public bool CancelOnWorker { get; init; } = true;
}
