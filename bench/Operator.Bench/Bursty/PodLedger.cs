using ComfyOperator.Kubernetes.Informers;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Bench.Bursty;

/// <summary>
/// When each pod of one namespace was created, became Ready and went (deletion started), as a pod
/// informer sees it (wall-clock UTC, the router's clock too); the GPU time of a fleet is summed from it.
/// </summary>
internal sealed class PodLedger : IAsyncDisposable
{
    private readonly Informer<V1Pod> _informer;
    private readonly Dictionary<string, PodTimes> _pods = new(StringComparer.Ordinal);

    private PodLedger(Informer<V1Pod> informer) => _informer = informer;

    public static async Task<PodLedger> StartAsync(IKubernetes client, string @namespace)
    {
        var ledger = new PodLedger(new Informer<V1Pod>(client, new InformerOptions { Namespace = @namespace }));
        ledger._informer.Added += ledger.Seen;
        ledger._informer.Updated += (_, pod) => ledger.Seen(pod);
        ledger._informer.Deleted += pod => ledger.Gone(pod.Metadata.Uid);
        ledger._informer.Start();
        await ledger._informer.WaitForSyncAsync();
        return ledger;
    }

    /// <summary>Pods seen so far, with their times.</summary>
    public IReadOnlyList<PodTimes> Pods
    {
        get
        {
            lock (_pods)
            {
                return [.. _pods.Values];
            }
        }
    }

    /// <summary>Pods that exist now (created, deletion not started).</summary>
    public int Existing => Pods.Count(p => p.Gone is null);

    /// <summary>
    /// Seconds of pod time inside [<paramref name="from"/>, <paramref name="to"/>]: each pod from its
    /// creation (or from Ready, with <paramref name="readyOnly"/>) until its deletion started.
    /// </summary>
    public double Seconds(DateTimeOffset from, DateTimeOffset to, bool readyOnly) => Pods.Sum(p =>
    {
        var start = readyOnly ? p.Ready : p.Created;
        if (start is null)
        {
            return 0;
        }

        var begin = start.Value > from ? start.Value : from;
        var end = p.Gone is { } gone && gone < to ? gone : to;
        return end > begin ? (end - begin).TotalSeconds : 0;
    });

    /// <summary>Seconds each pod created inside the window lived (until its deletion started, or the window's end).</summary>
    public IReadOnlyList<double> Lifetimes(DateTimeOffset from, DateTimeOffset to) =>
        [.. Pods.Where(p => p.Created >= from && p.Created < to).Select(p => ((p.Gone ?? to) - p.Created).TotalSeconds)];

    /// <summary>The most pods that existed at once inside the window.</summary>
    public int Peak(DateTimeOffset from, DateTimeOffset to)
    {
        var changes = Pods
            .Where(p => p.Created < to && (p.Gone ?? DateTimeOffset.MaxValue) > from)
            .SelectMany(p => new[] { (Time: p.Created, Delta: 1), (Time: p.Gone ?? DateTimeOffset.MaxValue, Delta: -1) })
            .OrderBy(c => c.Time)
            .ThenBy(c => c.Delta);
        int now = 0, peak = 0;
        foreach (var change in changes)
        {
            now += change.Delta;
            peak = Math.Max(peak, now);
        }

        return peak;
    }

    public ValueTask DisposeAsync() => _informer.DisposeAsync();

    private void Seen(V1Pod pod)
    {
        var now = TimeProvider.System.GetUtcNow();
        lock (_pods)
        {
            if (!_pods.TryGetValue(pod.Metadata.Uid, out var times))
            {
                times = new PodTimes(pod.Metadata.Name, now);
                _pods[pod.Metadata.Uid] = times;
            }

            if (times.Ready is null && pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            {
                times.Ready = now;
            }

            if (times.Gone is null && pod.Metadata.DeletionTimestamp is not null)
            {
                times.Gone = now;
            }
        }
    }

    private void Gone(string uid)
    {
        var now = TimeProvider.System.GetUtcNow();
        lock (_pods)
        {
            if (_pods.TryGetValue(uid, out var times) && times.Gone is null)
            {
                times.Gone = now;
            }
        }
    }
}
