namespace ComfyOperator.Router.Api;

/// <summary>The body of <c>POST /v1/nodes</c>.</summary>
internal sealed record AddNodeRequest(string? Url, Dictionary<string, string>? Labels, int? MaxQueue);
