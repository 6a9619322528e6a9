namespace ComfyOperator.Entities;

/// <summary>Finalizers the operator puts on its resources.</summary>
public static class EntityFinalizers
{
    /// <summary>
    /// On every ComfyNode: a deleted node stays (cordoned, so the router sends it nothing new) until its
    /// worker is idle or its <c>terminationGracePeriodSeconds</c> have passed; then the operator removes
    /// the finalizer and the node, its pod and its other objects go.
    /// </summary>
    public const string Drain = EntityApi.Group + "/drain";
}
