namespace ComfyOperator.Router.Outputs;

/// <summary>S3 / MinIO / R2 / s3rver settings. Credentials fall back to the AWS environment (AWS_ACCESS_KEY_ID ...).</summary>
internal sealed class S3OutputOptions
{
    /// <summary>Endpoint URL (MinIO, R2, s3rver); empty means AWS S3 in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = string.Empty;

    /// <summary>Key prefix; keys are <c>&lt;prefix&gt;/&lt;run id&gt;/&lt;output name&gt;/&lt;file&gt;</c>.</summary>
    public string Prefix { get; set; } = "runs";

    public bool ForcePathStyle { get; set; } = true;

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>aws-chunked uploads; R2 and s3rver need it off.</summary>
    public bool UseChunkEncoding { get; set; } = true;

    public long MultipartThresholdBytes { get; set; } = 64L * 1024 * 1024;

    public long PartSizeBytes { get; set; } = 16L * 1024 * 1024;

    public TimeSpan PresignedUrlTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Upload attempts after the first one fails; with exponential backoff from <see cref="RetryBaseDelay"/>.</summary>
    public int UploadRetries { get; set; } = 6;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);
}
