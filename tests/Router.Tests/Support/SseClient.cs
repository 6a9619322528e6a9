using System.Text;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>Reads a Server-Sent Events response event by event.</summary>
public sealed class SseClient(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    public async Task<SseMessage?> NextAsync(CancellationToken cancellationToken)
    {
        string? id = null;
        string? type = null;
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (type is null && data.Length == 0)
                {
                    continue;
                }

                return new SseMessage(id, type ?? "message", data.ToString());
            }

            if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = line[3..].Trim();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                if (data.Length > 0)
                {
                    data.Append('\n');
                }

                data.Append(line[5..].TrimStart());
            }
        }

        return null;
    }

    /// <summary>Reads until the stream ends.</summary>
    public async Task<List<SseMessage>> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var all = new List<SseMessage>();
        while (await NextAsync(cancellationToken) is { } message)
        {
            all.Add(message);
        }

        return all;
    }

    public void Dispose() => _reader.Dispose();
}
