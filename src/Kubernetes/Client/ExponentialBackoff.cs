namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Capped exponential backoff with jitter: attempt n waits initial × 2^n, capped at max, then
/// scaled by a random factor in [1 - jitter, 1]. The random source is injected so tests are exact.
/// </summary>
public sealed class ExponentialBackoff
{
    public ExponentialBackoff(TimeSpan initial, TimeSpan max, double jitter = 0.5, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jitter, 1.0);
        Initial = initial;
        Max = max;
        Jitter = jitter;
        Random = random ?? DefaultRandom;
    }

    public TimeSpan Initial { get; }

    public TimeSpan Max { get; }

    public double Jitter { get; }

    public Func<double> Random { get; }

    /// <summary>Delay before retry number <paramref name="attempt"/> (0 for the first retry).</summary>
    public TimeSpan Delay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        var exponent = Math.Min(attempt, 30);
        var ticks = Math.Min(Initial.Ticks * Math.Pow(2, exponent), Max.Ticks);
        var factor = 1.0 - (Jitter * Math.Clamp(Random(), 0.0, 1.0));
        return TimeSpan.FromTicks((long)(ticks * factor));
    }

    // Jitter only spreads retries out; it needs no cryptographic quality.
#pragma warning disable CA5394
    internal static double DefaultRandom() => System.Random.Shared.NextDouble();
#pragma warning restore CA5394
}
