namespace ComfyOperator.Operator.Models;

/// <summary>What happened to one file.</summary>
internal sealed record ModelSyncResult(string RelativePath, ModelSyncOutcome Outcome, long Bytes, string? Error = null);
