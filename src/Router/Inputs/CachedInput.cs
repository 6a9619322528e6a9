namespace ComfyOperator.Router.Inputs;

/// <summary>A file in the input cache: <c>&lt;sha256&gt;&lt;.ext&gt;</c> under the cache directory.</summary>
internal sealed record CachedInput(string FileName, string FullPath, long Size, string Sha256, bool Downloaded);
