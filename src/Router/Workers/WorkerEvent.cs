namespace ComfyOperator.Router.Workers;

/// <summary>One message about one prompt, reduced to what the router needs.</summary>
internal sealed record WorkerEvent(WorkerEventKind Kind, string PromptId)
{
    public string? Node { get; init; }

    public double Value { get; init; }

    public double Max { get; init; }

    public IReadOnlyList<string> Nodes { get; init; } = [];

    public string? NodeType { get; init; }

    public string? Message { get; init; }

    public string? ExceptionType { get; init; }

    public IReadOnlyList<WorkerFile> Files { get; init; } = [];

    public ReadOnlyMemory<byte> Image { get; init; }

    public string? ImageType { get; init; }
}
