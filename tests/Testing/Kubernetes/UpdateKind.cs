namespace ComfyOperator.Testing.Kubernetes;

/// <summary>How an update arrived: PUT needs a resourceVersion for CRs; apply may create.</summary>
internal enum UpdateKind
{
    Put,
    Patch,
    Apply,
}
