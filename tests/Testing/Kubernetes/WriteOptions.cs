using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Query options of a write: dryRun=All, fieldValidation (Strict|Warn|Ignore), fieldManager.</summary>
internal sealed record WriteOptions(bool DryRun, string FieldValidation, string? FieldManager)
{
    /// <summary>For server-side apply: the FieldsV1 set of the applied configuration, recorded for the manager.</summary>
    public JsonObject? AppliedFields { get; init; }
}
