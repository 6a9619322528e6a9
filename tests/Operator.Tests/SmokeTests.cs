namespace ComfyOperator.Operator.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("Operator", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
