namespace ComfyOperator.Router.Security;

/// <summary>
/// Endpoint metadata: an API key may come as a <c>token</c> query parameter too (ComfyUI's routes,
/// since a browser's WebSocket and <c>&lt;img src&gt;</c> cannot set headers).
/// </summary>
internal sealed class QueryTokenAllowed
{
    public const string Parameter = "token";
}
