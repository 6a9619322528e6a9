namespace ComfyOperator.Entities.Schema;

/// <summary>Enables the <c>/scale</c> subresource (<c>kubectl scale</c>) with these JSON paths.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ScaleSubresourceAttribute(string specReplicasPath, string statusReplicasPath) : Attribute
{
    public string SpecReplicasPath { get; } = specReplicasPath;

    public string StatusReplicasPath { get; } = statusReplicasPath;

    public string? LabelSelectorPath { get; set; }
}
