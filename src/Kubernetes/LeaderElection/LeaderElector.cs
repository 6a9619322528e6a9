using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Kubernetes.LeaderElection;

/// <summary>
/// Lease-based leader election, following client-go's <c>tryAcquireOrRenew</c> (docs/kubernetes-api.md §7):
/// a lease held by someone else counts as valid for LeaseDuration after this candidate last saw it
/// change (local clock, so clock skew does not matter); the leader renews every RetryPeriod and
/// steps down when it cannot renew within RenewDeadline; on cancellation it clears the holder.
/// </summary>
public sealed partial class LeaderElector
{
    private readonly IKubernetesClient _client;
    private readonly LeaderElectionConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Func<double> _random;
    private Lease? _observedLease;
    private LeaseSpec? _observedRecord;
    private DateTimeOffset _observedTime;
    private string? _reportedLeader;
    private volatile bool _isLeader;

    public LeaderElector(
        IKubernetesClient client,
        LeaderElectionConfig config,
        ILogger<LeaderElector>? logger = null,
        TimeProvider? timeProvider = null,
        Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _client = client;
        _config = config;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _random = random ?? ExponentialBackoff.DefaultRandom;
    }

    /// <summary>Runs when this candidate becomes leader; its token is cancelled when leadership ends.</summary>
    public Func<CancellationToken, Task>? OnStartedLeading { get; set; }

    /// <summary>Runs when leadership ends (renewal failed past the deadline, or cancellation).</summary>
    public Action? OnStoppedLeading { get; set; }

    /// <summary>Runs when a different holder is observed (including this candidate).</summary>
    public Action<string>? OnNewLeader { get; set; }

    public bool IsLeader => _isLeader;

    /// <summary>The holder last observed on the lease.</summary>
    public string? CurrentLeader => _observedRecord?.HolderIdentity;

    /// <summary>
    /// Campaigns until leadership is acquired, leads until it is lost or <paramref name="cancellationToken"/>
    /// fires, then returns. Call again to stand for election again.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!await AcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _isLeader = true;
        LogStartedLeading(_logger, _config.Identity, _config.LockNamespace, _config.LockName);
        var work = OnStartedLeading is { } started ? Task.Run(() => started(leading.Token), CancellationToken.None) : Task.CompletedTask;
        try
        {
            await RenewLoopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Stop leading before letting anyone else in: callbacks first, then the release.
            _isLeader = false;
            await leading.CancelAsync().ConfigureAwait(false);
            await work.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            LogStoppedLeading(_logger, _config.Identity);
            OnStoppedLeading?.Invoke();
            if (cancellationToken.IsCancellationRequested && _config.ReleaseOnCancel)
            {
                await ReleaseAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<bool> AcquireAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            try
            {
                await Task.Delay(Jittered(_config.RetryPeriod, 1.2), _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return false;
    }

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        var lastRenew = _timeProvider.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_config.RetryPeriod, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            // Each attempt is bounded by what is left of the renew deadline.
            var remaining = lastRenew + _config.RenewDeadline - _timeProvider.GetUtcNow();
            var renewed = false;
            if (remaining > TimeSpan.Zero)
            {
                using var deadline = new CancellationTokenSource(remaining, _timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
                try
                {
                    renewed = await TryAcquireOrRenewAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    renewed = false;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }

            if (renewed)
            {
                lastRenew = _timeProvider.GetUtcNow();
            }
            else if (_timeProvider.GetUtcNow() - lastRenew >= _config.RenewDeadline || !HeldByMe(_observedRecord))
            {
                LogRenewFailed(_logger, _config.Identity, _config.RenewDeadline);
                return;
            }
        }
    }

    /// <summary>One round of client-go's tryAcquireOrRenew. True when this candidate holds the lease afterwards.</summary>
    internal async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var durationSeconds = (int)Math.Ceiling(_config.LeaseDuration.TotalSeconds);

        // Fast path: the leader renews from its cached copy while its lease is still valid locally.
        if (_isLeader && _observedLease is { } cached && HeldByMe(_observedRecord) && _observedTime + _config.LeaseDuration > now)
        {
            var renewal = Copy(cached);
            renewal.Spec.RenewTime = now;
            renewal.Spec.LeaseDurationSeconds = durationSeconds;
            try
            {
                var updated = await _client.ReplaceNamespacedAsync(renewal, _config.LockName, _config.LockNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                Observe(updated, now);
                return true;
            }
            catch (Exception exception) when (exception is KubernetesException or HttpRequestException or TimeoutException or IOException)
            {
                LogLeaseError(_logger, _config.Identity, "renew", exception);
            }
        }

        Lease lease;
        try
        {
            lease = await _client.ReadNamespacedAsync<Lease>(_config.LockName, _config.LockNamespace, cancellationToken).ConfigureAwait(false);
        }
        catch (KubernetesException exception) when (exception.IsNotFound)
        {
            var created = new Lease
            {
                Metadata = new ObjectMeta { Name = _config.LockName, NamespaceProperty = _config.LockNamespace },
                Spec = new LeaseSpec
                {
                    HolderIdentity = _config.Identity,
                    LeaseDurationSeconds = durationSeconds,
                    AcquireTime = now,
                    RenewTime = now,
                    LeaseTransitions = 0,
                },
            };
            try
            {
                Observe(await _client.CreateNamespacedAsync(created, _config.LockNamespace, cancellationToken: cancellationToken).ConfigureAwait(false), now);
                return true;
            }
            catch (KubernetesException createException) when (createException.IsAlreadyExists || createException.IsConflict)
            {
                return false;
            }
            catch (Exception createException) when (createException is KubernetesException or HttpRequestException or TimeoutException or IOException)
            {
                LogLeaseError(_logger, _config.Identity, "create", createException);
                return false;
            }
        }
        catch (Exception exception) when (exception is KubernetesException or HttpRequestException or TimeoutException or IOException)
        {
            LogLeaseError(_logger, _config.Identity, "get", exception);
            return false;
        }

        var record = lease.Spec;
        if (!SameRecord(record, _observedRecord))
        {
            Observe(lease, now);
        }
        else
        {
            _observedLease = lease;
        }

        var holder = record.HolderIdentity;
        var validFor = TimeSpan.FromSeconds(record.LeaseDurationSeconds ?? durationSeconds);
        if (!string.IsNullOrEmpty(holder) && holder != _config.Identity && _observedTime + validFor > now)
        {
            return false;
        }

        var desired = Copy(lease);
        desired.Spec.HolderIdentity = _config.Identity;
        desired.Spec.LeaseDurationSeconds = durationSeconds;
        desired.Spec.RenewTime = now;
        if (holder != _config.Identity)
        {
            desired.Spec.AcquireTime = now;
            desired.Spec.LeaseTransitions = (record.LeaseTransitions ?? 0) + 1;
        }

        try
        {
            Observe(await _client.ReplaceNamespacedAsync(desired, _config.LockName, _config.LockNamespace, cancellationToken: cancellationToken).ConfigureAwait(false), now);
            return true;
        }
        catch (KubernetesException exception) when (exception.IsConflict)
        {
            return false;
        }
        catch (Exception exception) when (exception is KubernetesException or HttpRequestException or TimeoutException or IOException)
        {
            LogLeaseError(_logger, _config.Identity, "update", exception);
            return false;
        }
    }

    private async Task ReleaseAsync()
    {
        // Shutdown is already under way; give the release its own short budget instead of the cancelled token.
        using var budget = new CancellationTokenSource(_config.RetryPeriod * 2, _timeProvider);
        for (var attempt = 0; attempt < 3 && !budget.IsCancellationRequested; attempt++)
        {
            try
            {
                var lease = await _client.ReadNamespacedAsync<Lease>(_config.LockName, _config.LockNamespace, budget.Token).ConfigureAwait(false);
                if (lease.Spec.HolderIdentity != _config.Identity)
                {
                    return;
                }

                var now = _timeProvider.GetUtcNow();
                lease.Spec.HolderIdentity = string.Empty;
                lease.Spec.LeaseDurationSeconds = 1;
                lease.Spec.AcquireTime = now;
                lease.Spec.RenewTime = now;
                await _client.ReplaceNamespacedAsync(lease, _config.LockName, _config.LockNamespace, cancellationToken: budget.Token).ConfigureAwait(false);
                LogReleased(_logger, _config.Identity);
                return;
            }
            catch (KubernetesException exception) when (exception.IsConflict)
            {
                continue;
            }
            catch (Exception exception) when (exception is KubernetesException or HttpRequestException or TimeoutException or IOException or OperationCanceledException)
            {
                LogLeaseError(_logger, _config.Identity, "release", exception);
                return;
            }
        }
    }

    private void Observe(Lease lease, DateTimeOffset now)
    {
        _observedLease = lease;
        _observedRecord = lease.Spec;
        _observedTime = now;
        var holder = lease.Spec.HolderIdentity;
        if (!string.IsNullOrEmpty(holder) && holder != _reportedLeader)
        {
            _reportedLeader = holder;
            LogNewLeader(_logger, _config.Identity, holder);
            OnNewLeader?.Invoke(holder);
        }
    }

    private bool HeldByMe(LeaseSpec? record) => record?.HolderIdentity == _config.Identity;

    private static bool SameRecord(LeaseSpec a, LeaseSpec? b) =>
        b is not null &&
        a.HolderIdentity == b.HolderIdentity &&
        a.LeaseDurationSeconds == b.LeaseDurationSeconds &&
        a.AcquireTime == b.AcquireTime &&
        a.RenewTime == b.RenewTime &&
        a.LeaseTransitions == b.LeaseTransitions;

    private static Lease Copy(Lease lease) =>
        Serialization.KubernetesJson.Deserialize<Lease>(Serialization.KubernetesJson.Serialize(lease))!;

    private TimeSpan Jittered(TimeSpan period, double maxFactor) =>
        period * (1.0 + ((maxFactor - 1.0) * Math.Clamp(_random(), 0.0, 1.0)));

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "{Identity} became leader on lease {Namespace}/{Name}")]
    private static partial void LogStartedLeading(ILogger logger, string identity, string @namespace, string name);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "{Identity} stopped leading")]
    private static partial void LogStoppedLeading(ILogger logger, string identity);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "{Identity} could not renew its lease within {RenewDeadline}; stepping down")]
    private static partial void LogRenewFailed(ILogger logger, string identity, TimeSpan renewDeadline);

    [LoggerMessage(EventId = 204, Level = LogLevel.Debug, Message = "{Identity}: lease {Operation} failed")]
    private static partial void LogLeaseError(ILogger logger, string identity, string operation, Exception exception);

    [LoggerMessage(EventId = 205, Level = LogLevel.Information, Message = "{Identity} released its lease")]
    private static partial void LogReleased(ILogger logger, string identity);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "{Identity} observed new leader {Leader}")]
    private static partial void LogNewLeader(ILogger logger, string identity, string leader);
}
