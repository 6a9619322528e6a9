using ComfyOperator.Observability.Logging;
using ComfyOperator.Operator.Metrics;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Reconciliation;

/// <summary>
/// Runs a reconcile function on N workers fed by a <see cref="WorkQueue"/>, applying its result
/// the way controller-runtime does: failure → rate-limited retry; requeue-after → forget the
/// backoff, add after the delay; success → forget. Each reconcile runs in a log scope naming the
/// resource (<c>resource.kind</c>/<c>resource.namespace</c>/<c>resource.name</c>) and is counted and
/// timed in <see cref="OperatorMetrics"/>; <paramref name="name"/> is the resource kind.
/// </summary>
internal sealed partial class ControllerRunner(
    string name,
    WorkQueue queue,
    Func<string, CancellationToken, Task<ReconcileResult>> reconcile,
    int workers,
    OperatorMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    private long _reconciles;
    private long _failures;

    public string Name { get; } = name;

    public long Reconciles => Interlocked.Read(ref _reconciles);

    public long FailureCount => Interlocked.Read(ref _failures);

    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)));

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            string key;
            try
            {
                key = await queue.TakeAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                return;
            }

            var slash = key.IndexOf('/', StringComparison.Ordinal);
            using var scope = logger.BeginResourceScope(Name, slash < 0 ? null : key[..slash], key[(slash + 1)..]);
            var started = time.GetTimestamp();
            try
            {
                Interlocked.Increment(ref _reconciles);
                var result = await reconcile(key, cancellationToken);
                metrics.Reconciled(Name, result.Succeeded ? OperatorMetrics.ResultSuccess : OperatorMetrics.ResultFailure, time.GetElapsedTime(started));
                if (!result.Succeeded)
                {
                    Interlocked.Increment(ref _failures);
                    var delay = result.RequeueAfter is { } after ? Requeue(key, after) : queue.AddRateLimited(key);
                    metrics.Retried(Name);
                    LogReconcileFailed(logger, Name, key, result.Error ?? "unknown", delay);
                }
                else if (result.RequeueAfter is { } after)
                {
                    queue.Forget(key);
                    queue.AddAfter(key, after);
                }
                else
                {
                    queue.Forget(key);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A worker must survive any bug in one reconcile; the key is retried with backoff.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _failures);
                metrics.Reconciled(Name, OperatorMetrics.ResultError, time.GetElapsedTime(started));
                var delay = queue.AddRateLimited(key);
                metrics.Retried(Name);
                LogReconcileCrashed(logger, e, Name, key, delay);
            }
            finally
            {
                queue.Done(key);
            }
        }
    }

    private TimeSpan Requeue(string key, TimeSpan after)
    {
        queue.AddAfter(key, after);
        return after;
    }

    [LoggerMessage(EventId = EventIds.ControllerRunnerReconcileFailed, Level = LogLevel.Warning, Message = "{Controller} {Key}: reconcile failed ({Error}); retry in {Delay}")]
    private static partial void LogReconcileFailed(ILogger logger, string controller, string key, string error, TimeSpan delay);

    [LoggerMessage(EventId = EventIds.ControllerRunnerReconcileCrashed, Level = LogLevel.Error, Message = "{Controller} {Key}: reconcile threw; retry in {Delay}")]
    private static partial void LogReconcileCrashed(ILogger logger, Exception exception, string controller, string key, TimeSpan delay);
}
