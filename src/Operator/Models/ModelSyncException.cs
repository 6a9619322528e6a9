namespace ComfyOperator.Operator.Models;

/// <summary>A model file could not be put in the cache; the message says which and why, for the pod log.</summary>
internal sealed class ModelSyncException : Exception
{
    public ModelSyncException()
    {
    }

    public ModelSyncException(string message)
        : base(message)
    {
    }

    public ModelSyncException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
