using System.Threading.Channels;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Copies the output files of one attempt from its worker (<c>GET /view</c>) to the output store, one at a time,
/// from when the attempt announces them (after the worker's <c>executed</c>), while the prompt's remaining messages
/// still arrive: when the prompt runs on after its outputs, most are stored by its completion. <see cref="GetAsync"/> gives a file's copy,
/// fetching it then when it was not announced. What was stored and the run does not record (a file announced
/// and not in the completion's list; everything when the attempt ends without success) is deleted again when
/// the attempt ends (<see cref="DisposeAsync"/>), which also stops a copy under way and waits for it.
/// </summary>
internal sealed partial class RunOutputFetcher(RunRecord run, ComfyClient client, IRunOutputWriter outputs, ILogger logger, CancellationToken cancellationToken)
    : IAsyncDisposable
{
    /// <summary>How long deleting the copies the run does not record may take when the attempt ends.</summary>
    private static readonly TimeSpan DiscardTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<(string NodeId, ComfyFileRef File), TaskCompletionSource<FetchedOutput>> _files = [];
    private readonly Channel<(string NodeId, ComfyFileRef File, TaskCompletionSource<FetchedOutput> Done)> _queue =
        Channel.CreateUnbounded<(string, ComfyFileRef, TaskCompletionSource<FetchedOutput>)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    private readonly List<RunOutput> _stored = [];
    private readonly HashSet<string> _recorded = new(StringComparer.Ordinal);
    private Task? _copying;
    private bool _disposed;

    /// <summary>Starts copying <paramref name="file"/> of node <paramref name="nodeId"/> after those announced before it (once per file).</summary>
    public void Announce(string nodeId, ComfyFileRef file) => Copy(nodeId, file);

    /// <summary>The copy of <paramref name="file"/>: announced before, or fetched now (after those announced).</summary>
    public Task<FetchedOutput> GetAsync(string nodeId, ComfyFileRef file, CancellationToken cancellationToken) =>
        Copy(nodeId, file).WaitAsync(cancellationToken);

    /// <summary>The run records <paramref name="output"/>: it stays in the store when the attempt ends.</summary>
    public void Keep(RunOutput output) => _recorded.Add(output.StorePath);

    private Task<FetchedOutput> Copy(string nodeId, ComfyFileRef file)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_files.TryGetValue((nodeId, file), out var done))
        {
            // Continuations run on the copying task: the attempt that waits for the last copy writes its end
            // from there, without another hop through the thread pool.
            done = new TaskCompletionSource<FetchedOutput>();
            _files[(nodeId, file)] = done;
            _queue.Writer.TryWrite((nodeId, file, done));
            _copying ??= CopyAllAsync(_stop.Token);
        }

        return done.Task;
    }

    /// <summary>
    /// Runs on the caller until the first copy's request is sent (no hop to begin it, the request out at once), then
    /// on the copies' own completions: the attempt goes on reading the worker's messages meanwhile.
    /// </summary>
    private async Task CopyAllAsync(CancellationToken stop)
    {
        try
        {
            // Stopped (the attempt ended, usually from a copy's own continuation) is a way out, not an
            // exception: WaitToReadAsync would throw once per attempt.
            while (!stop.IsCancellationRequested && await _queue.Reader.WaitToReadAsync(stop))
            {
                while (_queue.Reader.TryRead(out var next))
                {
                    try
                    {
                        next.Done.TrySetResult(await CopyAsync(next.NodeId, next.File, stop));
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        next.Done.TrySetCanceled(stop);
                        throw;
                    }
                    catch (Exception ex)
                    {
                        // Not a failure of the worker or the store: the attempt that waits for this file sees it.
                        next.Done.TrySetException(ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The attempt ended, or the router stops.
        }
        finally
        {
            // Copies not begun (the attempt ended, or the router stops) are not wanted any more.
            while (_queue.Reader.TryRead(out var left))
            {
                left.Done.TrySetCanceled(stop);
            }
        }
    }

    private async Task<FetchedOutput> CopyAsync(string nodeId, ComfyFileRef file, CancellationToken stop)
    {
        ComfyFileContent content;
        try
        {
            content = await client.ViewAsync(file, stop);
        }
        catch (Exception ex) when (RunAttempt.IsTransportFailure(ex, stop))
        {
            return new FetchedOutput(null, ex, null);
        }

        await using (content)
        {
            try
            {
                var output = await outputs.SaveAsync(run, nodeId, OutputNames.Sanitize(file.Filename), file.Filename, content.Content, stop);
                lock (_stored)
                {
                    _stored.Add(output);
                }

                return new FetchedOutput(output, null, null);
            }
            catch (Exception ex) when (!stop.IsCancellationRequested && ex is not OutOfMemoryException)
            {
                return new FetchedOutput(null, null, ex);
            }
        }
    }

    /// <summary>Stops the copying (and waits for it), then deletes the copies the run does not record.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        if (_copying is not null)
        {
            await _copying;
        }

        _stop.Dispose();
        RunOutput[] discarded;
        lock (_stored)
        {
            discarded = [.. _stored.Where(o => !_recorded.Contains(o.StorePath)).DistinctBy(o => o.StorePath)];
        }

        if (discarded.Length == 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(DiscardTimeout);
        foreach (var output in discarded)
        {
            try
            {
                await outputs.DeleteAsync(run, output, timeout.Token);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Left under the run's prefix, unrecorded: deleted with the run.
                LogDiscardFailed(logger, run.Id, output.StorePath, ex);
            }
        }
    }

    [LoggerMessage(EventId = EventIds.RunOutputFetcherDiscardFailed, Level = LogLevel.Warning, Message = "Run {RunId}: could not delete the unrecorded output copy {Name}; it goes with the run")]
    private static partial void LogDiscardFailed(ILogger logger, string runId, string name, Exception exception);
}
