using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Inputs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// Sends signed webhooks (Standard Webhooks) from the persisted queue: due deliveries are POSTed
/// through the SSRF-guarded client; failures are retried with exponential backoff until the retry
/// window closes. Pending deliveries survive a restart because they live in the router database.
/// Deliveries are claimed a few at a time for as long as sending all of them may take (plus a margin
/// for clocks that differ between routers), so several routers on one database send each attempt
/// once; a claim left by a router that died is due again when it ends.
/// </summary>
internal sealed partial class WebhookDispatcher : BackgroundService
{
    private readonly IWebhookStore _store;
    private readonly SafeHttpDownloader _http;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Metrics.RouterMetrics? _metrics;

    /// <summary>Deliveries claimed at a time; each may take up to RequestTimeout.</summary>
    private const int ClaimBatch = 8;

    /// <summary>Slack on every claim for routers whose clocks disagree by less than this.</summary>
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(30);

    public WebhookDispatcher(IWebhookStore store, SafeHttpDownloader http, WebhookOptions options, TimeProvider time, ILogger<WebhookDispatcher> logger, Metrics.RouterMetrics? metrics = null)
    {
        _metrics = metrics;
        _store = store;
        _http = http;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Queues <paramref name="type"/> for <paramref name="runId"/> to <paramref name="url"/> with the run's
    /// <c>GET /v1/runs/{id}</c> payload as <c>data</c>. Idempotent per run, event and URL; false when already queued.
    /// </summary>
    public async Task<bool> EnqueueAsync(string runId, string type, string url, JsonNode? run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!WebhookEvents.IsKnown(type))
        {
            throw new ArgumentException($"Unknown webhook event '{type}'.", nameof(type));
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new InputRefusedException("webhook.url", "not an absolute URL");
        }

        await _http.CheckUrlAsync("webhook.url", uri, cancellationToken);
        var now = _time.GetUtcNow();
        var body = new JsonObject
        {
            ["type"] = type,
            ["timestamp"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["data"] = run?.DeepClone(),
        }.ToJsonString();
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var added = await _store.EnqueueAsync(id, runId, type, url, body, now, cancellationToken);
        if (added)
        {
            _wake.Release();
        }

        return added;
    }

    public Task<IReadOnlyList<WebhookDelivery>> ListAsync(string runId, CancellationToken cancellationToken) => _store.ListAsync(runId, cancellationToken);

    /// <summary>Sends every delivery that is due now; returns how many were attempted.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var claimedAt = _time.GetUtcNow();
        var claimedUntil = claimedAt + (_options.RequestTimeout * ClaimBatch) + ClaimMargin;
        var due = await _store.ClaimDueAsync(claimedAt, claimedUntil - claimedAt, ClaimBatch, cancellationToken);
        var attempted = 0;
        foreach (var delivery in due)
        {
            // Never send on a claim that may end before the request does: another router may have it then.
            // What is left stays claimed and becomes due when the claim ends.
            if (_time.GetUtcNow() + _options.RequestTimeout > claimedUntil - ClaimMargin)
            {
                break;
            }

            await DeliverAsync(delivery, cancellationToken);
            attempted++;
        }

        return attempted;
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A full claim may have left more due: claim again at once.
                while (await DeliverDueAsync(stoppingToken) == ClaimBatch)
                {
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogLoopFailed(exception);
            }

            try
            {
                await _wake.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task DeliverAsync(PendingWebhook delivery, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        int? statusCode = null;
        string? error = null;
        var delivered = false;
        try
        {
            if (string.IsNullOrEmpty(_options.Secret))
            {
                throw new InvalidOperationException("Router:Webhooks:Secret is not set; webhooks cannot be signed.");
            }

            var key = WebhookSigner.ParseSecret(_options.Secret);
            var timestamp = now.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("webhook-id", delivery.Id);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSigner.Sign(key, delivery.Id, timestamp, delivery.Body));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            using var response = await _http.SendAsync("webhook.url", request, timeout.Token);
            statusCode = (int)response.StatusCode;
            delivered = response.IsSuccessStatusCode;
            if (!delivered)
            {
                error = $"HTTP {statusCode}";
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = "timed out";
        }
        catch (Exception exception) when (exception is InputRefusedException or HttpRequestException or IOException or InvalidOperationException or FormatException)
        {
            error = exception.Message;
        }

        DateTimeOffset? next = null;
        if (!delivered)
        {
            var attempt = delivery.Attempts + 1;
            var delay = TimeSpan.FromTicks((long)Math.Min(
                _options.MaxRetryDelay.Ticks,
                _options.InitialRetryDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30))));
            var candidate = _time.GetUtcNow() + delay;
            next = candidate - delivery.CreatedAt <= _options.RetryWindow ? candidate : null;
            LogFailed(delivery.Event, delivery.RunId, attempt, error ?? "error", next is null);
        }

        _metrics?.WebhookDelivery(delivered ? "delivered" : next is null ? "gave_up" : "failed");

        await _store.RecordAttemptAsync(delivery.Id, delivered, _time.GetUtcNow(), next, statusCode, error, cancellationToken);
    }

    [LoggerMessage(EventId = EventIds.WebhookDispatcherFailed, Level = LogLevel.Warning, Message = "Webhook {Event} for run {RunId} failed on attempt {Attempt}: {Error} (given up: {GivenUp})")]
    private partial void LogFailed(string @event, string runId, int attempt, string error, bool givenUp);

    [LoggerMessage(EventId = EventIds.WebhookDispatcherLoopFailed, Level = LogLevel.Error, Message = "Webhook dispatch loop failed")]
    private partial void LogLoopFailed(Exception exception);
}
