using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>Watch semantics of docs/kubernetes-api.md §4.</summary>
public sealed class WatchTests
{
    private const string Path = TestCrds.CronTabsPath;

    [Fact]
    public async Task Watch_NoResourceVersion_SyntheticAddedThenLive()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        await api.CreateCronTabCrdAsync();
        await api.PostAsync(Path, TestCrds.CronTabObject("a"));
        await api.PostAsync(Path, TestCrds.CronTabObject("b"));
        await using var watch = await WatchReader.OpenAsync(api.Http, Path + "?watch=true");
        Assert.Equal(200, watch.StatusCode);
        var first = await watch.NextAsync();
        var second = await watch.NextAsync();
        Assert.Equal(("ADDED", "a"), (first.Type(), first.Name()));
        Assert.Equal(("ADDED", "b"), (second.Type(), second.Name()));
        Assert.Equal("CronTab", first["object"]!["kind"]!.GetValue<string>());

        await api.PatchAsync(Path + "/a", """{"spec":{"image":"nginx"}}""");
        var modified = await watch.NextAsync();
        Assert.Equal(("MODIFIED", "a"), (modified.Type(), modified.Name()));
        await api.DeleteAsync(Path + "/b");
        var deleted = await watch.NextAsync();
        Assert.Equal(("DELETED", "b"), (deleted.Type(), deleted.Name()));
        Assert.True(long.Parse(deleted.Rv()) > long.Parse(modified.Rv()));
    }

    [Fact]
    public async Task Watch_ResourceVersionZero_SameAsUnset()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        await api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"x"}}""");
        await using var watch = await WatchReader.OpenAsync(api.Http, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0");
        var ev = await watch.NextAsync();
        Assert.Equal(("ADDED", "x"), (ev.Type(), ev.Name()));
    }

    [Fact]
    public async Task Watch_FromResourceVersion_ReplaysOnlyLaterChanges()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        await api.CreateCronTabCrdAsync();
        await api.PostAsync(Path, TestCrds.CronTabObject("a"));
        var list = await api.GetAsync(Path);
        await api.PostAsync(Path, TestCrds.CronTabObject("b"));
        await api.PatchAsync(Path + "/a", """{"spec":{"image":"nginx"}}""");
        await using var watch = await WatchReader.OpenAsync(api.Http, Path + "?watch=true&resourceVersion=" + list.Rv);
        var first = await watch.NextAsync();
        var second = await watch.NextAsync();
        Assert.Equal(("ADDED", "b"), (first.Type(), first.Name()));
        Assert.Equal(("MODIFIED", "a"), (second.Type(), second.Name()));
    }

    [Fact]
    public async Task Watch_TooOldResourceVersion_ExpiredErrorFrame()
    {
        await using var emu = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = 3 });
        using var api = new ApiClient(emu.BaseAddress);
        var first = await api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"c0"}}""");
        for (var i = 1; i < 6; i++)
        {
            await api.PostAsync("/api/v1/namespaces/default/configmaps", $$$"""{"metadata":{"name":"c{{{i}}}"}}""");
        }

        await using var watch = await WatchReader.OpenAsync(api.Http, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + first.Rv);
        Assert.Equal(200, watch.StatusCode);
        var ev = await watch.NextAsync();
        Assert.Equal("ERROR", ev.Type());
        var status = ev["object"]!;
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal(410, status["code"]!.GetValue<int>());
        Assert.Equal("Expired", status["reason"]!.GetValue<string>());
        Assert.StartsWith($"too old resource version: {first.Rv} (", status["message"]!.GetValue<string>());
        Assert.Null(await watch.NextOrEndAsync());
    }

    [Fact]
    public async Task Watch_LabelSelector_FilterTransitionsAddedAndDeleted()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        const string cms = "/api/v1/namespaces/default/configmaps";
        await api.PostAsync(cms, """{"metadata":{"name":"x","labels":{"app":"other"}}}""");
        await using var watch = await WatchReader.OpenAsync(api.Http, cms + "?watch=true&labelSelector=app%3Dweb");
        var enter = await api.PatchAsync(cms + "/x", """{"metadata":{"labels":{"app":"web"}}}""");
        var added = await watch.NextAsync();
        Assert.Equal(("ADDED", "x"), (added.Type(), added.Name()));
        Assert.Equal(enter.Rv, added.Rv());

        var leave = await api.PatchAsync(cms + "/x", """{"metadata":{"labels":{"app":"gone"}},"data":{"k":"v"}}""");
        var deleted = await watch.NextAsync();
        Assert.Equal(("DELETED", "x"), (deleted.Type(), deleted.Name()));
        Assert.Equal(leave.Rv, deleted.Rv());
        Assert.Equal("web", deleted["object"]!["metadata"]!["labels"]!["app"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_FieldSelectorByName_OnlyThatObject()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        const string cms = "/api/v1/namespaces/default/configmaps";
        await using var watch = await WatchReader.OpenAsync(api.Http, cms + "?watch=true&fieldSelector=metadata.name%3Dwanted");
        await api.PostAsync(cms, """{"metadata":{"name":"noise"}}""");
        await api.PostAsync(cms, """{"metadata":{"name":"wanted"}}""");
        var ev = await watch.NextAsync();
        Assert.Equal(("ADDED", "wanted"), (ev.Type(), ev.Name()));
    }

    [Fact]
    public async Task Watch_Bookmarks_CarryKindAndResourceVersion()
    {
        await using var emu = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { BookmarkInterval = TimeSpan.FromMilliseconds(100) });
        using var api = new ApiClient(emu.BaseAddress);
        await api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"x"}}""");
        await using var watch = await WatchReader.OpenAsync(api.Http, "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true");
        var bookmark = await watch.NextMatchingAsync(e => e.Type() == "BOOKMARK");
        Assert.Equal("ConfigMap", bookmark["object"]!["kind"]!.GetValue<string>());
        Assert.Equal("v1", bookmark["object"]!["apiVersion"]!.GetValue<string>());
        Assert.Equal(emu.ResourceVersion.ToString(), bookmark.Rv());
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_EndsStreamCleanly()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        await using var watch = await WatchReader.OpenAsync(api.Http, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1");
        Assert.Null(await watch.NextOrEndAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WatchList_SendInitialEvents_AnnotatedBookmarkAfterInitialObjects()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        const string cms = "/api/v1/namespaces/default/configmaps";
        await api.PostAsync(cms, """{"metadata":{"name":"a"}}""");
        await api.PostAsync(cms, """{"metadata":{"name":"b"}}""");
        await using var watch = await WatchReader.OpenAsync(api.Http, cms + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
        Assert.Equal("ADDED", (await watch.NextAsync()).Type());
        Assert.Equal("ADDED", (await watch.NextAsync()).Type());
        var bookmark = await watch.NextAsync();
        Assert.Equal("BOOKMARK", bookmark.Type());
        Assert.Equal("true", bookmark["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]!.GetValue<string>());

        var bad = await api.GetAsync(cms + "?watch=true&sendInitialEvents=true");
        Assert.True(bad.Code is 400 or 422);
    }

    [Fact]
    public async Task DropWatches_OpenWatch_ConnectionAborted()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        await using var watch = await WatchReader.OpenAsync(api.Http, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + emu.ResourceVersion);
        for (var i = 0; i < 200 && emu.OpenWatchCount == 0; i++)
        {
            await Task.Delay(10);
        }

        emu.Faults.DropWatches();
        await Assert.ThrowsAnyAsync<IOException>(() => watch.NextAsync());
        Assert.Equal(0, emu.OpenWatchCount);
    }

    [Fact]
    public async Task Watch_TableAccept_OneRowTableFrames()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        await api.CreateCronTabCrdAsync();
        await api.PostAsync(Path, TestCrds.CronTabObject("a"));
        await using var watch = await WatchReader.OpenAsync(api.Http, Path + "?watch=true", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        var ev = await watch.NextAsync();
        Assert.Equal("Table", ev["object"]!["kind"]!.GetValue<string>());
        var row = ev["object"]!["rows"]!.AsArray().Single();
        Assert.Equal("a", row!["cells"]![0]!.GetValue<string>());
        Assert.Equal("PartialObjectMetadata", row["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_ManyEvents_DeliveredInResourceVersionOrder()
    {
        await using var emu = await KubeApiEmulator.StartAsync();
        using var api = new ApiClient(emu.BaseAddress);
        const string cms = "/api/v1/namespaces/default/configmaps";
        await using var watch = await WatchReader.OpenAsync(api.Http, cms + "?watch=true&resourceVersion=" + emu.ResourceVersion);
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => api.PostAsync(cms, $$$"""{"metadata":{"name":"c{{{i}}}"}}""")));
        long last = 0;
        for (var i = 0; i < 40; i++)
        {
            var ev = await watch.NextAsync();
            var rv = long.Parse(ev.Rv());
            Assert.True(rv > last);
            last = rv;
        }
    }
}
