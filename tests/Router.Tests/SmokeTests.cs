namespace ComfyOperator.Router.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("Router", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
