using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Tests.Nodes;

public sealed class NodeAddressParserTests
{
    [Fact]
    public void ParseEntries_Range_ExpandsEveryHost()
    {
        var urls = NodeAddressParser.ParseEntries(["http://gpu[1-8]:8188"]);

        Assert.Equal(8, urls.Count);
        Assert.Equal("http://gpu1:8188/", urls[0].ToString());
        Assert.Equal("http://gpu8:8188/", urls[7].ToString());
    }

    [Fact]
    public void ParseEntries_ZeroPaddedRange_KeepsWidth()
    {
        var urls = NodeAddressParser.ParseEntries(["http://pool[01-20]:8188"]);

        Assert.Equal(20, urls.Count);
        Assert.Equal("http://pool01:8188/", urls[0].ToString());
        Assert.Equal("http://pool09:8188/", urls[8].ToString());
        Assert.Equal("http://pool20:8188/", urls[19].ToString());
    }

    [Fact]
    public void ParseEntries_SeveralRangesCommasAndSemicolons_ExpandsAllInOrder()
    {
        var urls = NodeAddressParser.ParseEntries(["http://a[1-2]:8188,http://b[1-3]:8188; http://10.0.0.[7-8]:9000"]);

        Assert.Equal(
            ["http://a1:8188/", "http://a2:8188/", "http://b1:8188/", "http://b2:8188/", "http://b3:8188/", "http://10.0.0.7:9000/", "http://10.0.0.8:9000/"],
            urls.Select(u => u.ToString()));
    }

    [Fact]
    public void ParseEntries_TwoRangesInOneUrl_ExpandsEveryCombination()
    {
        var urls = NodeAddressParser.ParseEntries(["http://dc[1-2]-gpu[1-3]:8188"]);

        Assert.Equal(6, urls.Count);
        Assert.Contains(urls, u => u.ToString() == "http://dc2-gpu3:8188/");
    }

    [Fact]
    public void ParseEntries_Duplicates_AppearOnce()
    {
        var urls = NodeAddressParser.ParseEntries(["http://gpu1:8188", "http://gpu[1-2]:8188/"]);

        Assert.Equal(["http://gpu1:8188/", "http://gpu2:8188/"], urls.Select(u => u.ToString()));
    }

    [Theory]
    [InlineData("http://gpu[8-1]:8188", "starts after it ends")]
    [InlineData("http://gpu[1-x]:8188", "whole numbers")]
    [InlineData("http://gpu[1-8:8188", "closing ']'")]
    [InlineData("gpu1:8188", "not an absolute http(s) URL")]
    [InlineData("ftp://gpu1", "not an absolute http(s) URL")]
    [InlineData("http://gpu[1-99999]:8188", "more than")]
    public void ParseEntries_BadEntry_ThrowsNamingTheEntry(string entry, string expected)
    {
        var ex = Assert.Throws<NodeAddressException>(() => NodeAddressParser.ParseEntries([entry]));

        Assert.Contains(entry, ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseFile_Json_ReadsEntriesWithRanges()
    {
        var urls = NodeAddressParser.ParseFile("servers.json", """["http://server1:8188", "http://worker[1-3]:8188"]""");

        Assert.Equal(4, urls.Count);
    }

    [Fact]
    public void ParseFile_Text_SkipsCommentsAndBlankLines()
    {
        var urls = NodeAddressParser.ParseFile("servers.txt", """
            # Primary data center
            http://dc1-worker[1-2]:8188

            http://backup:8188   # the spare
            """);

        Assert.Equal(["http://dc1-worker1:8188/", "http://dc1-worker2:8188/", "http://backup:8188/"], urls.Select(u => u.ToString()));
    }

    [Fact]
    public void ParseFile_BrokenJson_ThrowsNamingTheFile()
    {
        var ex = Assert.Throws<NodeAddressException>(() => NodeAddressParser.ParseFile("/etc/servers.json", "[\"http://a:1\","));

        Assert.Contains("/etc/servers.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToFilePath_FileUrl_GivesPath()
    {
        Assert.Equal("/etc/comfyui/servers.json", NodeAddressParser.ToFilePath("file:///etc/comfyui/servers.json"));
        Assert.Equal("servers.txt", NodeAddressParser.ToFilePath("servers.txt"));
    }
}
