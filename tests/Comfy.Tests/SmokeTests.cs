namespace ComfyOperator.Comfy.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("Comfy", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
