using ComfyOperator.Kubernetes.Selectors;

namespace ComfyOperator.Kubernetes.Tests.Selectors;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new()
    {
        ["app"] = "comfy",
        ["tier"] = "gpu",
        ["comfyoperator.io/node"] = "n1",
    };

    [Theory]
    [InlineData("app=comfy", true)]
    [InlineData("app==comfy", true)]
    [InlineData("app=other", false)]
    [InlineData("app!=other", true)]
    [InlineData("missing!=x", true)]
    [InlineData("tier in (gpu, cpu)", true)]
    [InlineData("tier in (cpu)", false)]
    [InlineData("tier notin (cpu)", true)]
    [InlineData("missing notin (cpu)", true)]
    [InlineData("comfyoperator.io/node", true)]
    [InlineData("!comfyoperator.io/node", false)]
    [InlineData("!missing", true)]
    [InlineData("app=comfy,tier in (gpu,cpu),!missing", true)]
    [InlineData("app=comfy,tier=cpu", false)]
    [InlineData("", true)]
    public void Matches_Selector_FollowsServerSemantics(string selector, bool expected)
    {
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));
    }

    [Fact]
    public void ToString_ParsedSelector_RoundTrips()
    {
        var text = LabelSelector.Parse("a=b, c in (d,e),!f,g,h!=i").ToString();

        Assert.Equal("a=b,c in (d,e),!f,g,h!=i", text);
    }

    [Fact]
    public void FromLabels_Map_BuildsSortedEqualityTerms()
    {
        var selector = LabelSelector.FromLabels(new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });

        Assert.Equal("a=1,b=2", selector.ToString());
        Assert.False(selector.Matches(Labels));
    }

    [Theory]
    [InlineData("a in (b")]
    [InlineData("a,,b")]
    [InlineData("a b")]
    [InlineData("a within (b)")]
    public void Parse_Invalid_Throws(string selector)
    {
        Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));
    }
}
