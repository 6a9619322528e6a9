namespace ComfyOperator.Operator.Controllers;

/// <summary>Where the node's declared models are.</summary>
internal enum ModelsState
{
    NotDeclared,
    Syncing,
    Synced,
    Failed,
}
