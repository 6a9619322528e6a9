namespace ComfyOperator.Router.Nodes;

/// <summary>A ComfyUI worker address and where it came from (<c>config</c>, <c>file</c>, later <c>kubernetes</c>).</summary>
internal sealed record NodeEndpoint(Uri BaseAddress, string Source);
