using System.Collections.Concurrent;
using System.Diagnostics;

namespace ComfyOperator.Router.Bench;

/// <summary>Sits in the router's worker HttpClient and notes when each POST /prompt has been answered.</summary>
internal sealed class PromptTimingHandler(ConcurrentQueue<long> posted) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.Method == HttpMethod.Post && request.RequestUri?.AbsolutePath.EndsWith("/prompt", StringComparison.Ordinal) == true)
        {
            posted.Enqueue(Stopwatch.GetTimestamp());
        }

        return response;
    }
}
