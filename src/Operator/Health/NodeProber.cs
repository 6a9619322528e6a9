using System.Net;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Entities;
using ComfyOperator.Operator.Metrics;

namespace ComfyOperator.Operator.Health;

/// <summary>
/// Active health probe of one ComfyUI through <see cref="ComfyClient"/>: <c>GET /system_stats</c>
/// (version, devices) then <c>GET /prompt</c> (queue), both under one per-probe deadline, like YARP's
/// active health checks. Latency and failures (by reason) go to <see cref="OperatorMetrics"/>.
/// </summary>
internal sealed class NodeProber(HttpClient http, OperatorMetrics metrics, TimeProvider time)
{
    public const string ReasonTimeout = "timeout";
    public const string ReasonHttp = "http";
    public const string ReasonConnection = "connection";
    public const string ReasonProtocol = "protocol";

    public async Task<ProbeResult> ProbeAsync(string endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var (result, reason) = await ProbeCoreAsync(endpoint, timeout, cancellationToken);
        metrics.Probed(time.GetElapsedTime(started), reason);
        return result;
    }

    private static ProbeResult TimedOut(TimeSpan timeout) => ProbeResult.Failed($"no answer within {timeout.TotalSeconds:0.#}s");

    private async Task<(ProbeResult Result, string? FailureReason)> ProbeCoreAsync(string endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var baseAddress) || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
        {
            return (ProbeResult.Failed($"'{endpoint}' is not an http(s) URL"), ReasonProtocol);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var client = new ComfyClient(http, baseAddress, new ComfyClientOptions { RequestTimeout = timeout }, time);
        try
        {
            var stats = await client.GetSystemStatsAsync(deadline.Token);
            var queue = await client.GetQueueRemainingAsync(deadline.Token);
            var devices = stats.Devices.Select(d => new DeviceStatus
            {
                Name = d.Name,
                Type = string.IsNullOrEmpty(d.Type) ? null : d.Type,
                Index = d.Index,
                VramTotal = d.VramTotal ?? 0,
                VramFree = d.VramFree ?? 0,
            }).ToList();
            return (new ProbeResult(true, stats.ComfyUiVersion, devices, queue, null), null);
        }
        catch (TimeoutException)
        {
            return (TimedOut(timeout), ReasonTimeout);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (TimedOut(timeout), ReasonTimeout);
        }
        catch (ComfyHttpException e) when (e.StatusCode == HttpStatusCode.OK)
        {
            return (ProbeResult.Failed("not a ComfyUI answer: " + e.Message), ReasonProtocol);
        }
        catch (ComfyHttpException e)
        {
            return (ProbeResult.Failed($"HTTP {(int)e.StatusCode} from {e.Method} {e.Path}"), ReasonHttp);
        }
        catch (HttpRequestException e)
        {
            return (ProbeResult.Failed(e.StatusCode is { } code ? $"HTTP {(int)code}" : e.Message), e.StatusCode is null ? ReasonConnection : ReasonHttp);
        }
    }
}
