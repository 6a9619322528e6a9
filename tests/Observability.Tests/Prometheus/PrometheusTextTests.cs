using ComfyOperator.Observability.Prometheus;

namespace ComfyOperator.Observability.Tests.Prometheus;

public sealed class PrometheusTextTests
{
    [Theory]
    [InlineData("comfy.router.runs", null, true, "comfy_router_runs_total")]
    [InlineData("runs_total", null, true, "runs_total")]
    [InlineData("queue.wait", "s", false, "queue_wait_seconds")]
    [InlineData("queue_wait_seconds", "s", false, "queue_wait_seconds")]
    [InlineData("upload", "By", true, "upload_bytes_total")]
    [InlineData("upload_bytes_total", "By", true, "upload_bytes_total")]
    [InlineData("9lives", "{run}", false, "_9lives")]
    [InlineData("a:b-c", null, false, "a:b_c")]
    public void FamilyName_InstrumentNameAndUnit_FollowsPrometheusConventions(string instrument, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusText.FamilyName(instrument, unit, counter));

    [Theory]
    [InlineData("run.id", "run_id")]
    [InlineData("a:b", "a_b")]
    [InlineData("__name__", "tag__name__")]
    [InlineData("1x", "_1x")]
    public void SanitizeLabelName_InvalidCharacters_AreReplaced(string tag, string expected) =>
        Assert.Equal(expected, PrometheusText.SanitizeLabelName(tag));

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e21, "1E+21")]
    public void FormatValue_SpecialAndOrdinaryValues_UseExpositionSpelling(double value, string expected) =>
        Assert.Equal(expected, PrometheusText.FormatValue(value));
}
