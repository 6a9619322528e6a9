using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Submissions;

/// <summary>
/// One submission, as every front door binds it (the REST API, which the console uses, ComfyUI's
/// <c>POST /prompt</c> and Comfy Router's <c>POST /workflow</c>): either an API-format graph (<see cref="Graph"/>) or a
/// workflow and its input values (<see cref="Workflow"/>, <see cref="Values"/>), and how the run is
/// scheduled and reported. Everything else — parsing, checks, readiness, inputs, limits, storing —
/// is <see cref="RunSubmission"/>'s.
/// </summary>
internal sealed record SubmitRun
{
    public const int MinPriority = -1000;
    public const int MaxPriority = 1000;
    public const int MaxIdempotencyKeyLength = 200;
    public const int MaxMetadataBytes = 16 * 1024;
    public const int MaxRunIdLength = 100;

    /// <summary>
    /// An API-format graph as the front door parsed it from its request (a raw-graph front door, or a graph already
    /// bound from <see cref="Workflow"/>); null when <see cref="Workflow"/>'s values are to be bound. Handed over: the
    /// submission checks it, prepares its inputs in place and serializes it once to store it, without parsing it again.
    /// </summary>
    public JsonNode? Graph { get; init; }

    /// <summary>
    /// The workflow to run by name (a workflow front door): its <see cref="Values"/> are bound into its
    /// graph; or, with <see cref="Graph"/>, the workflow that graph was already bound from (a rerun of a
    /// workflow run), which the run then belongs to as if its inputs had been bound again.
    /// </summary>
    public string? Workflow { get; init; }

    public IReadOnlyDictionary<string, JsonNode?> Values { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>Higher runs first, from <see cref="MinPriority"/> to <see cref="MaxPriority"/>.</summary>
    public int Priority { get; init; }

    /// <summary>The same key (per owner) returns the run it first created.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The caller's own JSON object, stored with the run.</summary>
    public string? Metadata { get; init; }

    /// <summary>The run's own webhook; null = none, or the workflow's default.</summary>
    public WebhookTarget? Webhook { get; init; }

    /// <summary>
    /// The run's id when the front door chooses it (ComfyUI's <c>prompt_id</c>, which the client may
    /// choose); null = a new one. Must be a safe name (<see cref="Outputs.OutputNames.IsSafe"/>) not in use.
    /// </summary>
    public string? RunId { get; init; }

    /// <summary>
    /// The front door made <see cref="RunId"/> itself, a new GUID (a ComfyUI client that chose no <c>prompt_id</c>): no
    /// run can have it, so it is not looked up (with PostgreSQL, a round trip per prompt).
    /// </summary>
    public bool RunIdIsNew { get; init; }

    /// <summary>API key id or user: idempotency scope, fair share and MaxPendingPerKey.</summary>
    public string? Owner { get; init; }

    /// <summary>ComfyUI's <c>extra_data</c> (a JSON object without <c>client_id</c>), posted to the worker with the prompt.</summary>
    public string? ExtraData { get; init; }
}
