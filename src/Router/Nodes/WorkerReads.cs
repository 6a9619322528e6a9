namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Reads from every worker a few at a time, on connections that do not outlive the read. All at once, a
/// refresh of a thousand workers holds all their answers in memory together: ComfyUI's <c>/object_info</c>
/// is megabytes with custom nodes, and even the simulator's made the router's working set jump by 50 MB on
/// each refresh at 1,000 workers.
/// </summary>
internal static class WorkerReads
{
    /// <summary>Reads in flight at once: enough to read a thousand fast workers in well under a second.</summary>
    internal const int Concurrency = 16;

    /// <summary>
    /// A client for one worker's periodic read whose connections close once answered: the worker is read again minutes
    /// later, so a pooled connection would only linger for the pool's idle timeout with its buffers (after a pass over
    /// 1,000 workers, a thousand of them at once).
    /// </summary>
    public static HttpClient Client(IHttpClientFactory factory)
    {
        var http = factory.CreateClient(HealthProber.HttpClientName);
        http.DefaultRequestHeaders.ConnectionClose = true;
        return http;
    }

    /// <summary>Runs <paramref name="read"/> for each item, at most <see cref="Concurrency"/> at a time.</summary>
    public static Task ForEachAsync<T>(IEnumerable<T> items, Func<T, CancellationToken, Task> read, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            items,
            new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
            (item, token) => new ValueTask(read(item, token)));
}
