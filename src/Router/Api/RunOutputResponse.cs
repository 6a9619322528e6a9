namespace ComfyOperator.Router.Api;

internal sealed record RunOutputResponse(string Name, string NodeId, string ContentType, long Size, string Url);
