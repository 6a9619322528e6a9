using ComfyOperator.Kubernetes.Client;

namespace ComfyOperator.Kubernetes.Tests.Client;

public sealed class ExponentialBackoffTests
{
    [Fact]
    public void Delay_NoJitterDraw_DoublesUntilCapped()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(30), 0.5, () => 0.0);

        var delays = Enumerable.Range(0, 8).Select(backoff.Delay).ToArray();

        Assert.Equal(
            new[] { 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30 },
            delays.Select(d => Math.Round(d.TotalSeconds, 3)).ToArray());
    }

    [Fact]
    public void Delay_FullJitterDraw_ShortensByTheJitterFraction()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0.5, () => 1.0);

        Assert.Equal(TimeSpan.FromMilliseconds(500), backoff.Delay(0));
        Assert.Equal(TimeSpan.FromSeconds(5), backoff.Delay(10));
    }

    [Fact]
    public void Delay_HugeAttempt_DoesNotOverflow()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.0);

        Assert.Equal(TimeSpan.FromMinutes(1), backoff.Delay(int.MaxValue));
    }
}
