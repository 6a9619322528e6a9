using ComfyOperator.Router.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Router.Tests.Hosting;

public sealed class IdleMemoryTrimmerTests
{
    private const long Little = 1L << 20;

    [Fact]
    public void Check_QuietIntervalsInARow_Trim()
    {
        var trimmer = new IdleMemoryTrimmer(TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);

        Assert.False(trimmer.Check(0));
        QuietUntilTrimmed(trimmer, 0);
    }

    [Fact]
    public void Check_BusyInterval_StartsTheQuietCountAgainAndReArms()
    {
        var trimmer = new IdleMemoryTrimmer(TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        trimmer.Check(0);
        var allocated = QuietUntilTrimmed(trimmer, 0);

        Assert.False(trimmer.Check(allocated += IdleMemoryTrimmer.QuietBytes));
        QuietUntilTrimmed(trimmer, allocated);
    }

    [Fact]
    public void Check_QuietIntervalsBrokenByABusyOne_DoNotTrim()
    {
        var trimmer = new IdleMemoryTrimmer(TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        var allocated = 0L;
        trimmer.Check(allocated);

        for (var i = 1; i < IdleMemoryTrimmer.QuietIntervals; i++)
        {
            Assert.False(trimmer.Check(allocated += Little));
        }

        Assert.False(trimmer.Check(allocated += IdleMemoryTrimmer.QuietBytes));
        QuietUntilTrimmed(trimmer, allocated);
    }

    /// <summary>Quiet intervals in a row: all but the last wait, the last trims.</summary>
    private static long QuietUntilTrimmed(IdleMemoryTrimmer trimmer, long allocated)
    {
        for (var i = 1; i < IdleMemoryTrimmer.QuietIntervals; i++)
        {
            Assert.False(trimmer.Check(allocated += Little));
        }

        Assert.True(trimmer.Check(allocated += Little));
        return allocated;
    }
}
