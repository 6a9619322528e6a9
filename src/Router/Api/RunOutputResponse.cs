namespace ComfyOperator.Router.Api;

/// <summary>
/// One output: <see cref="Url"/> is the router's stable link (a redirect to a fresh presigned URL
/// when outputs are in S3); <see cref="DownloadUrl"/> is a presigned direct URL valid until
/// <see cref="ExpiresAt"/> (S3 only).
/// </summary>
internal sealed record RunOutputResponse(string Name, string NodeId, string ContentType, long Size, string Url)
{
    /// <summary>The workflow's output name (<c>outputs[].name</c> of its WorkflowDeployment); absent for raw graphs.</summary>
    public string? Output { get; init; }

    public string? DownloadUrl { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }
}
