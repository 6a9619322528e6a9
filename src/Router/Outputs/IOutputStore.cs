namespace ComfyOperator.Router.Outputs;

/// <summary>Where run outputs go: a local directory by default; S3/MinIO later.</summary>
internal interface IOutputStore
{
    /// <summary>Stores <paramref name="content"/> as output <paramref name="name"/> of run <paramref name="runId"/>; returns its size in bytes.</summary>
    Task<long> SaveAsync(string runId, string name, Stream content, CancellationToken cancellationToken);

    /// <summary>Opens an output for reading, or null when it does not exist.</summary>
    Task<Stream?> OpenAsync(string runId, string name, CancellationToken cancellationToken);

    /// <summary>Deletes output <paramref name="name"/> of run <paramref name="runId"/>, if it exists.</summary>
    Task DeleteAsync(string runId, string name, CancellationToken cancellationToken);

    Task DeleteRunAsync(string runId, CancellationToken cancellationToken);
}
