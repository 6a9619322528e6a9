using ComfyOperator.Router.Keys;

namespace ComfyOperator.Router.Api;

/// <summary><c>GET /v1/usage</c>: runs, failures and GPU-seconds per key and per workflow since <paramref name="Since"/>.</summary>
internal sealed record UsageResponse(string Window, DateTimeOffset Since, IReadOnlyList<UsageTotal> ByKey, IReadOnlyList<UsageTotal> ByWorkflow, IReadOnlyList<UsageRow> Rows);
