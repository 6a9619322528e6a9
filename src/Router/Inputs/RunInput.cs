namespace ComfyOperator.Router.Inputs;

/// <summary>
/// One graph input whose value names a file the router provides: <paramref name="Source"/> is the
/// submitted value (an http(s) URL or <c>cache:&lt;file&gt;</c>; data URIs are stored at submit and
/// become <c>cache:</c> references). <paramref name="FileName"/> is the input-cache file once
/// resolved (and pinned); <paramref name="ModelFolder"/> is set for model inputs (<c>loras</c>...).
/// </summary>
internal sealed record RunInput(string NodeId, string Input, InputKind Kind, string? ModelFolder, string Source, string? FileName);
