namespace ComfyOperator.Testing.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("Testing", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
