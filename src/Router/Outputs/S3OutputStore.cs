using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace ComfyOperator.Router.Outputs;

/// <summary>
/// Outputs in an S3-compatible bucket under <c>&lt;prefix&gt;/&lt;run id&gt;/&lt;output name&gt;</c>.
/// Uploads are staged to a temporary file (so every retry resends the same bytes), retried with
/// exponential backoff, and go multipart above a threshold. Works with AWS S3, MinIO, R2 and s3rver.
/// </summary>
internal sealed partial class S3OutputStore : IOutputStore, IPresignedOutputStore, IDisposable
{
    private readonly S3OutputOptions _options;
    private readonly AmazonS3Client _client;
    private readonly ResiliencePipeline _retry;
    private readonly ILogger<S3OutputStore> _logger;
    private readonly TimeProvider _time;
    private readonly bool _http;
    private int _failedAttempts;

    private readonly Metrics.RouterMetrics? _metrics;

    public S3OutputStore(S3OutputOptions options, TimeProvider time, ILogger<S3OutputStore> logger, Metrics.RouterMetrics? metrics = null)
    {
        _metrics = metrics;
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            throw new ArgumentException("Router:Outputs:S3:Bucket is required for the s3 output store.", nameof(options));
        }

        _options = options;
        _time = time;
        _logger = logger;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = 0,
            Timeout = options.RequestTimeout,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
            _http = options.ServiceUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        _client = !string.IsNullOrEmpty(options.AccessKey) && !string.IsNullOrEmpty(options.SecretKey)
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);

        // UploadRetries 0: one attempt, no retry strategy (Polly refuses MaxRetryAttempts < 1).
        var pipeline = new ResiliencePipelineBuilder();
        if (options.UploadRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.UploadRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = new PredicateBuilder()
                    .Handle<AmazonServiceException>(IsTransient)
                    .Handle<HttpRequestException>()
                    .Handle<IOException>()
                    .Handle<TimeoutException>(),
                OnRetry = arguments =>
                {
                    Interlocked.Increment(ref _failedAttempts);
                    _metrics?.S3UploadFailed();
                    LogRetry(arguments.AttemptNumber + 1, arguments.RetryDelay, arguments.Outcome.Exception?.GetType().Name ?? "error");
                    return ValueTask.CompletedTask;
                },
            });
        }

        _retry = pipeline.Build();
    }

    /// <summary>Attempts that failed and were retried (tests wait on it).</summary>
    public int FailedAttempts => Volatile.Read(ref _failedAttempts);

    public string KeyOf(string runId, string name)
    {
        if (!OutputNames.IsSafe(runId) || !OutputNames.IsSafePath(name))
        {
            throw new ArgumentException($"Unsafe output path '{runId}/{name}'.", nameof(name));
        }

        var prefix = _options.Prefix.Trim('/');
        return prefix.Length == 0 ? $"{runId}/{name}" : $"{prefix}/{runId}/{name}";
    }

    public async Task<long> SaveAsync(string runId, string name, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var key = KeyOf(runId, name);
        var staged = Path.Combine(Path.GetTempPath(), "comfyoperator-upload-" + Guid.NewGuid().ToString("N"));
        try
        {
            var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, cancellationToken);
            }

            var size = new FileInfo(staged).Length;
            var contentType = OutputNames.ContentType(name);
            await _retry.ExecuteAsync(
                async token =>
                {
                    if (size > _options.MultipartThresholdBytes)
                    {
                        await UploadMultipartAsync(key, staged, size, contentType, token);
                    }
                    else
                    {
                        await _client.PutObjectAsync(
                            new PutObjectRequest
                            {
                                BucketName = _options.Bucket,
                                Key = key,
                                FilePath = staged,
                                ContentType = contentType,
                                UseChunkEncoding = _options.UseChunkEncoding,
                            },
                            token);
                    }
                },
                cancellationToken);
            _metrics?.S3Uploaded(size);
            return size;
        }
        finally
        {
            File.Delete(staged);
        }
    }

    public async Task<Stream?> OpenAsync(string runId, string name, CancellationToken cancellationToken)
    {
        if (!OutputNames.IsSafe(runId) || !OutputNames.IsSafePath(name))
        {
            return null;
        }

        try
        {
            var response = await _client.GetObjectAsync(_options.Bucket, KeyOf(runId, name), cancellationToken);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task DeleteAsync(string runId, string name, CancellationToken cancellationToken) =>
        _client.DeleteObjectAsync(_options.Bucket, KeyOf(runId, name), cancellationToken);

    public async Task DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        if (!OutputNames.IsSafe(runId))
        {
            return;
        }

        var prefix = KeyOf(runId, "x")[..^1];
        string? token = null;
        do
        {
            var page = await _client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix, ContinuationToken = token },
                cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                await _client.DeleteObjectAsync(_options.Bucket, item.Key, cancellationToken);
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    public async Task<Uri> GetPresignedUrlAsync(string runId, string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var url = await _client.GetPreSignedURLAsync(PresignRequest(runId, name));
        return new Uri(url);
    }

    /// <summary>Signing is local computation (no request), so run responses can carry fresh URLs cheaply.</summary>
    public Uri GetPresignedUrl(string runId, string name) => new(_client.GetPreSignedURL(PresignRequest(runId, name)));

    public TimeSpan PresignedUrlTtl => _options.PresignedUrlTtl;

    private GetPreSignedUrlRequest PresignRequest(string runId, string name) => new()
    {
        BucketName = _options.Bucket,
        Key = KeyOf(runId, name),
        Verb = HttpVerb.GET,
        Expires = _time.GetUtcNow().UtcDateTime.Add(_options.PresignedUrlTtl),
        Protocol = _http ? Protocol.HTTP : Protocol.HTTPS,
    };

    public void Dispose() => _client.Dispose();

    private static bool IsTransient(AmazonServiceException exception) =>
        (int)exception.StatusCode == 0 || exception.StatusCode is System.Net.HttpStatusCode.RequestTimeout or System.Net.HttpStatusCode.TooManyRequests
            || (int)exception.StatusCode >= 500
            || exception.InnerException is HttpRequestException or IOException;

    private async Task UploadMultipartAsync(string key, string path, long size, string contentType, CancellationToken cancellationToken)
    {
        var start = await _client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key, ContentType = contentType },
            cancellationToken);
        try
        {
            var parts = new List<PartETag>();
            var partSize = Math.Max(5L * 1024 * 1024, _options.PartSizeBytes);
            var number = 1;
            for (long position = 0; position < size; position += partSize, number++)
            {
                var response = await _client.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = _options.Bucket,
                        Key = key,
                        UploadId = start.UploadId,
                        PartNumber = number,
                        FilePath = path,
                        FilePosition = position,
                        PartSize = Math.Min(partSize, size - position),
                        UseChunkEncoding = _options.UseChunkEncoding,
                    },
                    cancellationToken);
                parts.Add(new PartETag(number, response.ETag));
            }

            await _client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = start.UploadId, PartETags = parts },
                cancellationToken);
        }
        catch
        {
            try
            {
                await _client.AbortMultipartUploadAsync(_options.Bucket, key, start.UploadId, CancellationToken.None);
            }
            catch (AmazonServiceException)
            {
                // The abort is a courtesy; lifecycle rules clean up abandoned uploads.
            }

            throw;
        }
    }

    [LoggerMessage(EventId = EventIds.S3OutputStoreRetry, Level = LogLevel.Warning, Message = "S3 upload attempt {Attempt} failed ({Error}); retrying in {Delay}")]
    private partial void LogRetry(int attempt, TimeSpan delay, string error);
}
