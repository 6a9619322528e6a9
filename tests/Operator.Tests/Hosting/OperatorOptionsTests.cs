using ComfyOperator.Operator.Hosting;

namespace ComfyOperator.Operator.Tests.Hosting;

public sealed class OperatorOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid()
    {
        Assert.Empty(new OperatorOptions().Validate());
    }

    [Fact]
    public void Validate_BadSettings_EachErrorNamesItsFlag()
    {
        var errors = new OperatorOptions
        {
            Namespaces = ["Bad_NS"],
            ProbePeriodSeconds = 0,
            ProbeFailureThreshold = 0,
            MetricsPort = 70000,
            DefaultImage = "",
            LeaseDuration = TimeSpan.FromSeconds(1),
            Kubeconfig = "/nonexistent/kubeconfig",
        }.Validate();

        foreach (var flag in new[] { "--namespace", "--probe-period", "--probe-failure-threshold", "--metrics-port", "--default-image", "--lease-duration", "--kubeconfig" })
        {
            Assert.Contains(errors, e => e.StartsWith(flag, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task RunVerb_InvalidSetting_ExitsTwoNamingIt()
    {
        var parse = ComfyOperator.Operator.Cli.OperatorCommands.Build().Parse(["run", "--probe-period", "0", "--metrics-port", "0"]);
        var error = new StringWriter();
        parse.InvocationConfiguration.Error = error;

        Assert.Equal(2, await parse.InvokeAsync());
        Assert.Contains("--probe-period", error.ToString(), StringComparison.Ordinal);
    }
}
