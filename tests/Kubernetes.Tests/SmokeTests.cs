namespace ComfyOperator.Kubernetes.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Assembly_Loads_ForThisProject()
    {
        Assert.Contains("Kubernetes", typeof(SmokeTests).Assembly.GetName().Name, StringComparison.Ordinal);
    }
}
