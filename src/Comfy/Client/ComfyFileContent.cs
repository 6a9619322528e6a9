namespace ComfyOperator.Comfy.Client;

/// <summary>A file streamed from GET /view. Dispose it to release the connection.</summary>
public sealed class ComfyFileContent : IAsyncDisposable, IDisposable
{
    private readonly HttpResponseMessage _response;

    internal ComfyFileContent(HttpResponseMessage response, Stream content)
    {
        _response = response;
        Content = content;
        ContentType = response.Content.Headers.ContentType?.MediaType;
        Length = response.Content.Headers.ContentLength;
    }

    public Stream Content { get; }

    public string? ContentType { get; }

    public long? Length { get; }

    public void Dispose()
    {
        Content.Dispose();
        _response.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
    }
}
