namespace ComfyOperator.Router.Submissions;

/// <summary>A webhook as the caller gave it, checked by <see cref="RunSubmission"/> (an http(s) URL the SSRF guard allows, known events).</summary>
internal sealed record WebhookTarget(string? Url, IReadOnlyList<string?> Events);
