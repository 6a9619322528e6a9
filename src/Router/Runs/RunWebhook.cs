namespace ComfyOperator.Router.Runs;

/// <summary>The <c>webhook</c> of a submission: where to POST and which events (<see cref="Webhooks.WebhookEvents"/>; empty = succeeded, failed, cancelled).</summary>
internal sealed record RunWebhook(string Url, IReadOnlyList<string> Events);
