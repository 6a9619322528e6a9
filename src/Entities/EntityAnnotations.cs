namespace ComfyOperator.Entities;

/// <summary>Annotation keys the operator writes and reads.</summary>
public static class EntityAnnotations
{
    /// <summary>
    /// On a managed pod: hash of everything in the ComfyNode spec that shapes the pod. A pod whose hash
    /// differs from the current spec's is replaced.
    /// </summary>
    public const string TemplateHash = EntityApi.Group + "/template-hash";

    /// <summary>On a ComfyNode owned by a WorkflowDeployment: hash of the template it was stamped from.</summary>
    public const string WorkflowTemplateHash = EntityApi.Group + "/workflow-template-hash";
}
