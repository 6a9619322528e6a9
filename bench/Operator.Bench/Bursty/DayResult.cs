namespace ComfyOperator.Operator.Bench.Bursty;

/// <summary>One fleet's figures over the replayed day, times already in simulated seconds.</summary>
internal sealed record DayResult(
    string Fleet,
    double GpuSecondsExisted,
    double GpuSecondsReady,
    int PeakPods,
    int PodsStarted,
    IReadOnlyList<double> PodLifetimes,
    int Submitted,
    int Succeeded,
    long PromptsExecuted,
    IReadOnlyList<double> Waits,
    IReadOnlyList<double> RunTimes)
{
    public int Lost => Submitted - Succeeded;

    public double WaitPercentile(double p) => Percentile(Waits, p);

    /// <summary>Nearest-rank percentile (0 of nothing).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
