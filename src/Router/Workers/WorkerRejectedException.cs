namespace ComfyOperator.Router.Workers;

/// <summary>The worker answered POST /prompt with 400: the graph is invalid there (unknown node, missing model...). Retrying elsewhere will not help.</summary>
public sealed class WorkerRejectedException : Exception
{
    public WorkerRejectedException()
    {
    }

    public WorkerRejectedException(string message)
        : base(message)
    {
    }

    public WorkerRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public string? NodeId { get; init; }

    public string? NodeType { get; init; }

    public string? ErrorType { get; init; }
}
