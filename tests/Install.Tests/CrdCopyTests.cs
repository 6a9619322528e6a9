namespace ComfyOperator.Install.Tests;

/// <summary>The chart installs exactly the generated CRDs (run `cp config/crds/*.yaml charts/comfy-router/crds/` after `make crds`).</summary>
public sealed class CrdCopyTests
{
    [Fact]
    public void ChartCrds_SameFilesAndBytesAsConfigCrds()
    {
        var source = RepoPaths.Combine("config", "crds");
        var chart = Path.Combine(RepoPaths.Chart, "crds");
        static string[] Names(string dir) => Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.NotEmpty(Names(source));
        Assert.Equal(Names(source), Names(chart));
        foreach (var name in Names(source))
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(source, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(chart, name))),
                $"charts/comfy-router/crds/{name} differs from config/crds/{name}: copy it again");
        }
    }

    [Fact]
    public async Task Render_IncludeCrds_CrdsComeFirst()
    {
        var manifests = await Helm.TemplateManifestsAsync(includeCrds: true);
        var crdCount = Directory.GetFiles(RepoPaths.Combine("config", "crds"), "*.yaml").Length;
        Assert.All(manifests.Items.Take(crdCount), m => Assert.Equal("CustomResourceDefinition", m.Kind));
        Assert.Contains(manifests.Items, m => m.Name == "comfynodes.comfyoperator.io");
        Assert.Contains(manifests.Items, m => m.Name == "workflowdeployments.comfyoperator.io");
    }
}
