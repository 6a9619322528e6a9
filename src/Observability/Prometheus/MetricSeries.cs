namespace ComfyOperator.Observability.Prometheus;

/// <summary>One label set of one family: a value, or bucket counts with sum and count for histograms.</summary>
internal sealed class MetricSeries
{
    private readonly Lock _histogramGate = new();
    private readonly long[]? _bucketCounts;
    private double _value;
    private double _sum;
    private long _count;

    public MetricSeries(string labelText, int bucketCount)
    {
        LabelText = labelText;
        _bucketCounts = bucketCount > 0 ? new long[bucketCount + 1] : null;
    }

    /// <summary>Rendered <c>name="value"</c> pairs without braces, sorted by name, escaped.</summary>
    public string LabelText { get; }

    public double Value => Volatile.Read(ref _value);

    public void Add(double increment)
    {
        var current = Volatile.Read(ref _value);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref _value, current + increment, current);
            if (seen.Equals(current))
            {
                return;
            }

            current = seen;
        }
    }

    public void Set(double value) => Volatile.Write(ref _value, value);

    /// <summary>Counts <paramref name="value"/> in the first bucket whose upper bound is at or above it (<c>le</c> semantics).</summary>
    public void Observe(double value, double[] bounds)
    {
        var index = Array.BinarySearch(bounds, value);
        if (index < 0)
        {
            index = ~index;
        }

        lock (_histogramGate)
        {
            _bucketCounts![index]++;
            _sum += value;
            _count++;
        }
    }

    /// <summary>A consistent copy: cumulative counts per bound (last = +Inf), sum and count.</summary>
    public (long[] Cumulative, double Sum, long Count) SnapshotHistogram()
    {
        var cumulative = new long[_bucketCounts!.Length];
        lock (_histogramGate)
        {
            long running = 0;
            for (var i = 0; i < _bucketCounts.Length; i++)
            {
                running += _bucketCounts[i];
                cumulative[i] = running;
            }

            return (cumulative, _sum, _count);
        }
    }
}
