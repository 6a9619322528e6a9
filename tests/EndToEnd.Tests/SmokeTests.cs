namespace ComfyOperator.EndToEnd.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("EndToEnd", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
