namespace ComfyOperator.Entities.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("Entities", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
