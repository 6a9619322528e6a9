using ComfyOperator.Router.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Router.Tests.Hosting;

public sealed class IdleMemoryTrimmerTests
{
    private const long Little = 1L << 20;

    [Fact]
    public void Check_ThirdQuietIntervalInARow_Trims()
    {
        var trimmer = new IdleMemoryTrimmer(TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        var allocated = 0L;

        Assert.False(trimmer.Check(allocated));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.True(trimmer.Check(allocated += Little));
    }

    [Fact]
    public void Check_BusyInterval_StartsTheQuietCountAgainAndReArms()
    {
        var trimmer = new IdleMemoryTrimmer(TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        var allocated = 0L;
        trimmer.Check(allocated);
        trimmer.Check(allocated += Little);
        trimmer.Check(allocated += Little);
        Assert.True(trimmer.Check(allocated += Little));

        Assert.False(trimmer.Check(allocated += IdleMemoryTrimmer.QuietBytes));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.True(trimmer.Check(allocated += Little));
    }

    [Fact]
    public void Check_QuietIntervalsBrokenByABusyOne_DoNotTrim()
    {
        var trimmer = new IdleMemoryTrimmer(TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        var allocated = 0L;
        trimmer.Check(allocated);

        Assert.False(trimmer.Check(allocated += Little));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.False(trimmer.Check(allocated += IdleMemoryTrimmer.QuietBytes));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.False(trimmer.Check(allocated += Little));
        Assert.True(trimmer.Check(allocated += Little));
    }
}
