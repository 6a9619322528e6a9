using k8s;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OfficialConfig = k8s.LeaderElection.LeaderElectionConfig;
using OfficialElector = k8s.LeaderElection.LeaderElector;
using OfficialRecord = k8s.LeaderElection.LeaderElectionRecord;

namespace ComfyOperator.Kubernetes.LeaderElection;

/// <summary>
/// Lease-based leader election on the official client's <c>LeaderElector</c> and <c>LeaseLock</c>,
/// plus what that elector leaves out: the leading work gets a token that is cancelled when leadership
/// ends (renewal failed past RenewDeadline, or shutdown), and a leader that stops cleanly releases
/// the lease. The official elector does not release on cancellation, so without the release a second
/// candidate waits a whole LeaseDuration; with it, the next retry takes over. The release is what
/// client-go does: an empty holder and a one-second lease, written only if this candidate still holds it.
/// </summary>
public sealed partial class LeaseElection
{
    private readonly IKubernetes _client;
    private readonly LeaderElectionConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private OfficialElector? _elector;
    private volatile bool _leading;

    /// <param name="timeProvider">Stamps the released lease; the official elector itself runs on the wall clock.</param>
    public LeaseElection(IKubernetes client, LeaderElectionConfig config, ILogger<LeaseElection>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _client = client;
        _config = config;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Runs when this candidate becomes leader; its token is cancelled when leadership ends.</summary>
    public Func<CancellationToken, Task>? OnStartedLeading { get; set; }

    /// <summary>Runs after the leading work has finished, before the lease is released.</summary>
    public Action? OnStoppedLeading { get; set; }

    /// <summary>Runs when a different holder is observed (including this candidate).</summary>
    public Action<string>? OnNewLeader { get; set; }

    public bool IsLeader => _leading;

    /// <summary>The holder last observed on the lease.</summary>
    public string? CurrentLeader => _elector?.GetLeader();

    /// <summary>
    /// Campaigns until leadership is acquired, leads until it is lost or <paramref name="cancellationToken"/>
    /// fires, then returns (releasing the lease on cancellation). Call again to stand for election again.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var leaseLock = new LeaseLock(_client, _config.LockNamespace, _config.LockName, _config.Identity);
        using var elector = new OfficialElector(new OfficialConfig(leaseLock)
        {
            LeaseDuration = _config.LeaseDuration,
            RenewDeadline = _config.RenewDeadline,
            RetryPeriod = _config.RetryPeriod,
        });
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = Task.CompletedTask;
        var led = false;
        elector.OnStartedLeading += () =>
        {
            led = true;
            _leading = true;
            LogStartedLeading(_logger, _config.Identity, _config.LockNamespace, _config.LockName);
            if (OnStartedLeading is { } started)
            {
                work = Task.Run(() => started(leading.Token), CancellationToken.None);
            }
        };
        elector.OnNewLeader += leader =>
        {
            // An empty holder is a released lease, not a leader.
            if (string.IsNullOrEmpty(leader))
            {
                return;
            }

            LogNewLeader(_logger, _config.Identity, leader);
            OnNewLeader?.Invoke(leader);
        };
        elector.OnError += exception => LogLeaseError(_logger, _config.Identity, exception);
        _elector = elector;
        try
        {
            await elector.RunUntilLeadershipLostAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: stop leading below.
        }
        finally
        {
            // Stop leading before letting anyone else in: the work first, then the release.
            _leading = false;
            await leading.CancelAsync().ConfigureAwait(false);
            await work.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (led)
            {
                LogStoppedLeading(_logger, _config.Identity);
                OnStoppedLeading?.Invoke();
                if (cancellationToken.IsCancellationRequested && _config.ReleaseOnCancel)
                {
                    await ReleaseAsync(leaseLock).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ReleaseAsync(LeaseLock leaseLock)
    {
        // Shutdown has cancelled the caller's token; the release gets its own short deadline.
        using var timeout = new CancellationTokenSource(_config.RenewDeadline);
        try
        {
            var current = await leaseLock.GetAsync(timeout.Token).ConfigureAwait(false);
            if (current?.HolderIdentity != _config.Identity)
            {
                return;
            }

            var now = _time.GetUtcNow().UtcDateTime;
            var released = await leaseLock.UpdateAsync(
                new OfficialRecord
                {
                    HolderIdentity = string.Empty,
                    LeaseDurationSeconds = 1,
                    AcquireTime = now,
                    RenewTime = now,
                    LeaderTransitions = current.LeaderTransitions,
                },
                timeout.Token).ConfigureAwait(false);
            if (released)
            {
                LogReleased(_logger, _config.Identity);
            }
        }
        catch (Exception exception) when (exception is k8s.Autorest.HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            // Not released: the next leader waits out the lease instead.
            LogLeaseError(_logger, _config.Identity, exception);
        }
    }

    [LoggerMessage(EventId = EventIds.LeaseElectionStartedLeading, Level = LogLevel.Information, Message = "{Identity} became leader on lease {Namespace}/{Name}")]
    private static partial void LogStartedLeading(ILogger logger, string identity, string @namespace, string name);

    [LoggerMessage(EventId = EventIds.LeaseElectionStoppedLeading, Level = LogLevel.Information, Message = "{Identity} stopped leading")]
    private static partial void LogStoppedLeading(ILogger logger, string identity);

    [LoggerMessage(EventId = EventIds.LeaseElectionLeaseError, Level = LogLevel.Debug, Message = "{Identity}: lease read or write failed")]
    private static partial void LogLeaseError(ILogger logger, string identity, Exception exception);

    [LoggerMessage(EventId = EventIds.LeaseElectionReleased, Level = LogLevel.Information, Message = "{Identity} released its lease")]
    private static partial void LogReleased(ILogger logger, string identity);

    [LoggerMessage(EventId = EventIds.LeaseElectionNewLeader, Level = LogLevel.Information, Message = "{Identity} observed new leader {Leader}")]
    private static partial void LogNewLeader(ILogger logger, string identity, string leader);
}
