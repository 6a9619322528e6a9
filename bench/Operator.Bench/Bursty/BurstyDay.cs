namespace ComfyOperator.Operator.Bench.Bursty;

/// <summary>
/// A seeded day of run arrivals, in simulated seconds from midnight: quiet night hours with almost
/// nothing, a morning ramp, a busy working day with bursts of tens of runs inside one minute, an
/// evening tail. Arrivals are a Poisson process per hour at the hour's rate, plus the bursts.
/// </summary>
internal static class BurstyDay
{
    // Runs per hour for each hour of a day: night, ramp 7-9, day 10-17, evening tail 18-21, late.
    private static readonly double[] HourlyRate =
    [
        0.5, 0.5, 0, 0, 0.5, 0, 1, 10,
        25, 45, 60, 60, 50, 60, 60, 55,
        50, 40, 30, 20, 12, 6, 2, 1,
    ];

    // Bursts per day: the hour they fall in (a seeded minute inside it) and their size range.
    private static readonly int[] BurstHours = [9, 11, 14, 16];
    private const int BurstMin = 25;
    private const int BurstMax = 45;

    /// <summary>Arrival times (simulated seconds, sorted) over <paramref name="hours"/> hours.</summary>
    public static IReadOnlyList<double> Arrivals(int hours, int seed)
    {
        var random = new Random(seed);
        var arrivals = new List<double>();
        for (var hour = 0; hour < hours; hour++)
        {
            var start = hour * 3600.0;
            var rate = HourlyRate[hour % 24];
            for (var t = NextGap(random, rate); t < 3600; t += NextGap(random, rate))
            {
                arrivals.Add(start + t);
            }

            if (Array.IndexOf(BurstHours, hour % 24) >= 0)
            {
                // Tens of runs within one simulated minute, e.g. a team's batch job.
                var burstStart = start + (random.NextDouble() * 3540);
                var size = random.Next(BurstMin, BurstMax + 1);
                for (var i = 0; i < size; i++)
                {
                    arrivals.Add(burstStart + (random.NextDouble() * 60));
                }
            }
        }

        arrivals.Sort();
        return arrivals;
    }

    /// <summary>Runs per simulated hour, for the printed profile of the day.</summary>
    public static int[] PerHour(IReadOnlyList<double> arrivals, int hours)
    {
        var counts = new int[hours];
        foreach (var t in arrivals)
        {
            counts[Math.Min(hours - 1, (int)(t / 3600))]++;
        }

        return counts;
    }

    private static double NextGap(Random random, double perHour) =>
        perHour <= 0 ? double.PositiveInfinity : -Math.Log(1 - random.NextDouble()) * 3600 / perHour;
}
