using System.Net;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Testing.S3;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Router.Tests.Outputs;

public sealed class S3OutputStoreTests(S3rverServer s3) : IClassFixture<S3rverServer>
{
    internal static S3OutputStore CreateStore(S3rverFixture server, long multipartThreshold = 64L * 1024 * 1024, int uploadRetries = 40) => new(
        new S3OutputOptions
        {
            ServiceUrl = server.ServiceUrl.ToString(),
            Bucket = server.Bucket,
            Prefix = "test-prefix",
            AccessKey = S3rverFixture.AccessKey,
            SecretKey = S3rverFixture.SecretKey,
            UseChunkEncoding = false,
            MultipartThresholdBytes = multipartThreshold,
            PartSizeBytes = 5L * 1024 * 1024,
            RetryBaseDelay = TimeSpan.FromMilliseconds(200),
            RetryMaxDelay = TimeSpan.FromSeconds(1),
            UploadRetries = uploadRetries,
            RequestTimeout = TimeSpan.FromSeconds(20),
        },
        TimeProvider.System,
        NullLogger<S3OutputStore>.Instance);

    [Fact]
    public async Task SaveAsync_Png_DownloadableByPresignedUrlWithContentType()
    {
        using var store = CreateStore(s3.Server);
        var bytes = RandomBytes(10_000, 1);

        var size = await store.SaveAsync("run1", "9_ComfyUI_00001_.png", new MemoryStream(bytes), CancellationToken.None);
        var url = await store.GetPresignedUrlAsync("run1", "9_ComfyUI_00001_.png", CancellationToken.None);

        Assert.Equal(10_000, size);
        Assert.Contains("test-prefix/run1/9_ComfyUI_00001_.png", url.AbsolutePath, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetPresignedUrlAsync_TamperedSignature_Rejected()
    {
        using var store = CreateStore(s3.Server);
        await store.SaveAsync("run2", "out.json", new MemoryStream("{}"u8.ToArray()), CancellationToken.None);
        var url = (await store.GetPresignedUrlAsync("run2", "out.json", CancellationToken.None)).ToString();
        var tampered = url.Replace("out.json", "out2.json", StringComparison.Ordinal);

        using var http = new HttpClient();
        using var response = await http.GetAsync(tampered);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SaveAsync_AboveThreshold_UploadsMultipart()
    {
        using var store = CreateStore(s3.Server, multipartThreshold: 1024 * 1024);
        var bytes = RandomBytes(6 * 1024 * 1024 + 123, 2);

        await store.SaveAsync("run3", "video.mp4", new MemoryStream(bytes), CancellationToken.None);
        var stream = await store.OpenAsync("run3", "video.mp4", CancellationToken.None);

        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await using (stream)
        {
            await stream.CopyToAsync(copy);
        }

        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task DeleteRunAsync_RemovesEveryOutputOfTheRun()
    {
        using var store = CreateStore(s3.Server);
        await store.SaveAsync("run4", "a.webp", new MemoryStream([1, 2, 3]), CancellationToken.None);
        await store.SaveAsync("run4", "b.wav", new MemoryStream([4, 5]), CancellationToken.None);

        await store.DeleteRunAsync("run4", CancellationToken.None);

        Assert.Null(await store.OpenAsync("run4", "a.webp", CancellationToken.None));
        Assert.Null(await store.OpenAsync("run4", "b.wav", CancellationToken.None));
    }

    [Theory]
    [InlineData("x.png", "image/png")]
    [InlineData("x.jpg", "image/jpeg")]
    [InlineData("x.webp", "image/webp")]
    [InlineData("x.gif", "image/gif")]
    [InlineData("x.mp4", "video/mp4")]
    [InlineData("x.webm", "video/webm")]
    [InlineData("x.wav", "audio/wav")]
    [InlineData("x.json", "application/json")]
    public async Task SaveAsync_KnownExtension_StoredWithContentType(string name, string contentType)
    {
        using var store = CreateStore(s3.Server);
        await store.SaveAsync("run5", name, new MemoryStream([1]), CancellationToken.None);

        using var http = new HttpClient();
        using var response = await http.GetAsync(await store.GetPresignedUrlAsync("run5", name, CancellationToken.None));

        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
    }

    internal static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
