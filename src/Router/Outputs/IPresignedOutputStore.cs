namespace ComfyOperator.Router.Outputs;

/// <summary>An output store that can hand out time-limited direct download URLs (S3 presigned GETs).</summary>
internal interface IPresignedOutputStore
{
    /// <summary>The object key an output is stored under.</summary>
    string KeyOf(string runId, string name);

    Task<Uri> GetPresignedUrlAsync(string runId, string name, CancellationToken cancellationToken);

    /// <summary>A fresh presigned GET URL, signed locally.</summary>
    Uri GetPresignedUrl(string runId, string name);

    TimeSpan PresignedUrlTtl { get; }
}
