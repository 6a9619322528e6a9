namespace ComfyOperator.Install.Tests;

/// <summary><c>helm lint --strict</c>: the chart passes with the values users install it with, and lint refuses bad values.</summary>
public sealed class ChartLintTests
{
    public static TheoryData<string> ValueFiles => new() { "", "values-kind.yaml", "ci/full-values.yaml" };

    [Theory]
    [MemberData(nameof(ValueFiles))]
    public async Task Lint_Strict_PassesWithValues(string valuesFile)
    {
        var args = new List<string> { "lint", "--strict", RepoPaths.Chart };
        if (valuesFile.Length > 0)
        {
            args.AddRange(["-f", Path.Combine(RepoPaths.Chart, valuesFile)]);
        }

        var result = await Helm.RunAsync(args);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("1 chart(s) linted, 0 chart(s) failed", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_Strict_BadValuesFailNamingTheSetting()
    {
        var result = await Helm.RunAsync(["lint", "--strict", RepoPaths.Chart, "--set", "router.replicas=2"]);

        Assert.False(result.Succeeded, result.ToString());
        Assert.Contains("1 chart(s) failed", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.Contains("at '/router/store/kind': value must be 'postgres'", result.StdOut, StringComparison.Ordinal);
    }
}
