namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Query options of a write: dryRun=All, fieldValidation (Strict|Warn|Ignore), fieldManager.</summary>
internal sealed record WriteOptions(bool DryRun, string FieldValidation, string? FieldManager);
