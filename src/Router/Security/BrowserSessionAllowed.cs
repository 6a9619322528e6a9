namespace ComfyOperator.Router.Security;

/// <summary>
/// Endpoint metadata: the web UI's session cookie (<see cref="BrowserSession"/>) is accepted here
/// (ComfyUI's routes, the proxied front end and user state). <c>/v1</c> never reads the cookie, so a
/// page elsewhere cannot make a signed-in browser act on it.
/// </summary>
internal sealed class BrowserSessionAllowed;
