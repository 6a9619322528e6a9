namespace ComfyOperator.Router.ComfyRouterApi;

/// <summary>A <c>POST /workflow</c> body that cannot be built into a graph; the message names the field.</summary>
internal sealed class ComfyRouterPayloadException(string message) : Exception(message);
