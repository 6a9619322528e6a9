using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Workflows;

public sealed class WorkflowDirectorySourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wf-watch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task StartAsync_FilesChange_CatalogFollowsAndBadFileIsSkipped()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "portrait.yaml"), WorkflowYaml.Portrait);
        await File.WriteAllTextAsync(Path.Combine(_dir, "notes.txt"), "not a workflow");
        var catalog = new WorkflowCatalog();
        using var source = new WorkflowDirectorySource(catalog, Options.Create(new WorkflowRoutingOptions { WorkflowsDirectory = _dir }), NullLogger<WorkflowDirectorySource>.Instance);

        await source.StartAsync(CancellationToken.None);
        Assert.NotNull(catalog.Find("portrait"));

        await File.WriteAllTextAsync(Path.Combine(_dir, "second.yaml"), WorkflowYaml.Portrait.Replace("name: portrait", "name: landscape", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(_dir, "broken.yaml"), "kind: WorkflowDeployment\nspec: [unclosed");
        await Wait.UntilAsync(() => Task.FromResult(catalog.Find("landscape") is not null), TimeSpan.FromSeconds(10), "landscape to load");
        Assert.NotNull(catalog.Find("portrait"));

        File.Delete(Path.Combine(_dir, "portrait.yaml"));
        await Wait.UntilAsync(() => Task.FromResult(catalog.Find("portrait") is null), TimeSpan.FromSeconds(10), "portrait to go");
        Assert.NotNull(catalog.Find("sd15"));
        await source.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Load_FileTruncatedToEmpty_KeepsItsWorkflowsUntilReadAgain()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        var catalog = new WorkflowCatalog();
        using var source = NewSource(catalog);
        source.Load(_dir);
        Assert.NotNull(catalog.Find("portrait"));

        // Read between a writer's truncate and its write.
        await File.WriteAllTextAsync(path, string.Empty);
        source.Load(_dir);
        Assert.NotNull(catalog.Find("portrait"));

        // The writer finishes: the new content is what counts.
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait.Replace("name: portrait", "name: landscape", StringComparison.Ordinal));
        source.Load(_dir);
        Assert.NotNull(catalog.Find("landscape"));
        Assert.Null(catalog.Find("portrait"));
    }

    [Fact]
    public async Task Load_FileStillEmptyOnSecondRead_WorkflowsGo()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        var catalog = new WorkflowCatalog();
        using var source = NewSource(catalog);
        source.Load(_dir);

        await File.WriteAllTextAsync(path, string.Empty);
        source.Load(_dir);
        Assert.NotNull(catalog.Find("portrait"));
        source.Load(_dir);
        Assert.Null(catalog.Find("portrait"));
        Assert.NotNull(catalog.Find("sd15"));
    }

    [Fact]
    public async Task Load_FileHalfWritten_KeepsItsWorkflowsOnceThenSkipsTheBrokenFile()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        var catalog = new WorkflowCatalog();
        using var source = NewSource(catalog);
        source.Load(_dir);

        await File.WriteAllTextAsync(path, "kind: WorkflowDeployment\nspec: [unclosed");
        source.Load(_dir);
        Assert.NotNull(catalog.Find("portrait"));

        // Still broken a moment later: skipped like any broken file.
        source.Load(_dir);
        Assert.Null(catalog.Find("portrait"));
        source.Load(_dir);
        Assert.Null(catalog.Find("portrait"));
    }

    [Fact]
    public async Task Load_FileDeletedAfterAnEmptyRead_WorkflowsGoAtOnce()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        var catalog = new WorkflowCatalog();
        using var source = NewSource(catalog);
        source.Load(_dir);
        await File.WriteAllTextAsync(path, string.Empty);
        source.Load(_dir);
        Assert.NotNull(catalog.Find("portrait"));

        File.Delete(path);
        source.Load(_dir);
        Assert.Null(catalog.Find("portrait"));

        // Back again with workflows, then deleted outright: gone on the first read too.
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        source.Load(_dir);
        Assert.NotNull(catalog.Find("portrait"));
        File.Delete(path);
        source.Load(_dir);
        Assert.Null(catalog.Find("portrait"));
    }

    [Fact]
    public async Task StartAsync_FileLeftEmpty_WorkflowsGoAfterTheRecheck()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        await File.WriteAllTextAsync(Path.Combine(_dir, "landscape.yaml"), WorkflowYaml.Portrait.Replace("name: portrait", "name: landscape", StringComparison.Ordinal));
        var catalog = new WorkflowCatalog();
        using var source = NewSource(catalog);
        await source.StartAsync(CancellationToken.None);
        Assert.NotNull(catalog.Find("portrait"));

        // One change event only: the held-back read must schedule its own re-read.
        await File.WriteAllTextAsync(path, string.Empty);
        await Wait.UntilAsync(() => Task.FromResult(catalog.Find("portrait") is null), TimeSpan.FromSeconds(10), "the emptied file's workflow to go");
        Assert.NotNull(catalog.Find("landscape"));
        await source.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task StartAsync_FileDeleted_WorkflowsGo()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        await File.WriteAllTextAsync(path, WorkflowYaml.Portrait);
        var catalog = new WorkflowCatalog();
        using var source = NewSource(catalog);
        await source.StartAsync(CancellationToken.None);
        Assert.NotNull(catalog.Find("portrait"));

        File.Delete(path);
        await Wait.UntilAsync(() => Task.FromResult(catalog.Find("portrait") is null), TimeSpan.FromSeconds(10), "the deleted file's workflow to go");
        await source.StopAsync(CancellationToken.None);
    }

    private WorkflowDirectorySource NewSource(WorkflowCatalog catalog) =>
        new(catalog, Options.Create(new WorkflowRoutingOptions { WorkflowsDirectory = _dir }), NullLogger<WorkflowDirectorySource>.Instance);
}
