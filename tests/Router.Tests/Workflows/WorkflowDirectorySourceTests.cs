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
}
