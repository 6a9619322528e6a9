using System.Text;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Watch;

namespace ComfyOperator.Kubernetes.Tests.Watch;

public sealed class WatchStreamReaderTests
{
    private static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task ReadAsync_EventLines_YieldsTypedEventsInOrder()
    {
        var body = """
            {"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"5"},"data":{"k":"v"}}}
            {"type":"MODIFIED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"6"}}}

            {"type":"BOOKMARK","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"9"}}}
            {"type":"DELETED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"10"}}}
            """;
        var events = new List<WatchEvent<ConfigMap>>();

        await foreach (var e in WatchStreamReader.ReadAsync<ConfigMap>(Stream(body), default))
        {
            events.Add(e);
        }

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Bookmark, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.Equal("v", events[0].Object.Data!["k"]);
        Assert.Equal("9", events[2].Object.Metadata.ResourceVersion);
        Assert.Equal("10", events[3].Object.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task ReadAsync_ErrorFrame_ThrowsKubernetesExceptionWithStatus()
    {
        var body = """
            {"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}
            {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 3 (40)","reason":"Expired","code":410}}
            """;
        var seen = 0;

        var error = await Assert.ThrowsAsync<KubernetesException>(async () =>
        {
            await foreach (var _ in WatchStreamReader.ReadAsync<ConfigMap>(Stream(body), default))
            {
                seen++;
            }
        });

        Assert.Equal(1, seen);
        Assert.True(error.IsGone);
        Assert.Equal(410, error.Code);
        Assert.Equal("Expired", error.Reason);
        Assert.Contains("too old resource version", error.Message);
    }

    [Fact]
    public void ParseLine_StatusObjectWithoutErrorType_IsTreatedAsError()
    {
        var line = """{"type":"MODIFIED","object":{"kind":"Status","status":"Failure","reason":"InternalError","code":500,"message":"boom"}}""";

        var error = Assert.Throws<KubernetesException>(() => WatchStreamReader.ParseLine<Pod>(line));

        Assert.True(error.IsServerError);
    }

    [Fact]
    public void ParseLine_Garbage_ThrowsMalformed()
    {
        Assert.Throws<KubernetesException>(() => WatchStreamReader.ParseLine<Pod>("{not json"));
        Assert.Throws<KubernetesException>(() => WatchStreamReader.ParseLine<Pod>("""{"type":"SOMETHING","object":{}}"""));
        Assert.Throws<KubernetesException>(() => WatchStreamReader.ParseLine<Pod>("""{"type":"ADDED"}"""));
    }

    [Fact]
    public async Task ReadAsync_EndOfStream_CompletesWithoutError()
    {
        var count = 0;
        await foreach (var _ in WatchStreamReader.ReadAsync<Pod>(Stream(string.Empty), default))
        {
            count++;
        }

        Assert.Equal(0, count);
    }
}
