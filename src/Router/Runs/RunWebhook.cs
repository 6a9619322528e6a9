namespace ComfyOperator.Router.Runs;

/// <summary>The <c>webhook</c> of a submission: where to POST and which events (<c>run.succeeded</c>, <c>run.failed</c>...; empty = succeeded, failed, cancelled).</summary>
internal sealed record RunWebhook(string Url, IReadOnlyList<string> Events);
