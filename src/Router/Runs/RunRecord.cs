using ComfyOperator.Router.Inputs;

namespace ComfyOperator.Router.Runs;

/// <summary>One run as the store keeps it. Immutable: every change is a new record written by <see cref="RunService"/>.</summary>
internal sealed record RunRecord
{
    public required string Id { get; init; }

    /// <summary>Store-assigned, increasing with submission order; the paging key.</summary>
    public long Sequence { get; init; }

    public RunStatus Status { get; init; }

    public int Priority { get; init; }

    public string? IdempotencyKey { get; init; }

    /// <summary>The API-format graph as submitted (JSON text).</summary>
    public required string Workflow { get; init; }

    /// <summary>Caller's metadata (JSON object text), echoed back.</summary>
    public string? Metadata { get; init; }

    public int Attempts { get; init; }

    /// <summary>Base URL of the worker the run is (or was last) on.</summary>
    public string? Worker { get; init; }

    /// <summary>The prompt_id we gave ComfyUI for the current attempt.</summary>
    public string? PromptId { get; init; }

    /// <summary>
    /// The WebSocket client id the current attempt's prompt was posted under: ComfyUI sends the prompt's
    /// events only to that id, so after a restart the router listens under it again to follow the run.
    /// </summary>
    public string? ClientId { get; init; }

    /// <summary>
    /// ComfyUI's <c>extra_data</c> from <c>POST /prompt</c> (a JSON object, e.g. <c>extra_pnginfo</c>, which
    /// ComfyUI writes into saved PNGs), posted with the prompt by whichever replica dispatches the run.
    /// </summary>
    public string? ExtraData { get; init; }

    /// <summary>Why the run ended up in its state (cancel reason, requeue reason, failure summary).</summary>
    public string? Reason { get; init; }

    public RunFailure? Failure { get; init; }

    public IReadOnlyList<RunOutput> Outputs { get; init; } = [];

    public bool CancelRequested { get; init; }

    public DateTimeOffset QueuedAt { get; init; }

    public DateTimeOffset? DispatchedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The workflow (WorkflowDeployment or preset) the run was submitted to; null for a raw graph.</summary>
    public string? Deployment { get; init; }

    /// <summary>Who submitted it: an API key id (<c>key-</c> + 8 hex of its SHA-256) or <c>user-NAME</c>; fair share is between owners.</summary>
    public string? Owner { get; init; }

    /// <summary>Sequence number of the last event of this run (0 = none yet).</summary>
    public long LastEventSequence { get; init; }

    /// <summary>Graph inputs that name a URL or a cached file; those with a file name are in the input cache and pinned.</summary>
    public IReadOnlyList<RunInput> Inputs { get; init; } = [];

    /// <summary>Where to send this run's lifecycle webhooks, if anywhere.</summary>
    public RunWebhook? Webhook { get; init; }
}
