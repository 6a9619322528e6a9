using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Tests.Workflows;

public sealed class WorkflowDefinitionFactoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wf-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadFile_KubectlYaml_BuildsTypedWorkflow()
    {
        var path = Path.Combine(_dir, "portrait.yaml");
        File.WriteAllText(path, WorkflowYaml.Portrait);

        var workflow = Assert.Single(WorkflowDirectorySource.ReadFile(path));

        Assert.True(workflow.IsValid, string.Join("; ", workflow.Problems));
        Assert.Equal("portrait", workflow.Name);
        Assert.Equal(WorkflowSourceNames.File, workflow.Source);
        Assert.Equal(["prompt", "steps", "seed"], workflow.Inputs.Select(i => i.Name));
        Assert.True(workflow.Inputs[0].Required);
        Assert.Equal(30, workflow.Inputs[1].Max);
        Assert.Equal("LeastQueued", workflow.PlacementPolicy);
        Assert.True(workflow.QueueWhenUnavailable);
        Assert.Equal(3, workflow.MaxPending);
        Assert.Contains(workflow.Models, m => m.Folder == "checkpoints" && m.FileName == "v1-5-pruned-emaonly.safetensors");
    }

    [Fact]
    public void ReadFile_Preset_UsesPresetInputs()
    {
        var path = Path.Combine(_dir, "fast.yml");
        File.WriteAllText(path, """
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata:
              name: fast-sdxl
            spec:
              preset: sdxl
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: ignored
            """);

        var workflow = Assert.Single(WorkflowDirectorySource.ReadFile(path));

        Assert.True(workflow.IsValid);
        Assert.Equal("sdxl", workflow.Preset);
        Assert.Contains(workflow.Inputs, i => i.Name == BuiltInWorkflows.RefinerCheckpoint);
    }

    [Theory]
    [InlineData("node: \"99\"", "spec.inputs[0].node: the graph has no node '99'")]
    [InlineData("type: colour", "spec.inputs[0].type: 'colour' is not one of")]
    public void ReadFile_BadInput_IsInvalidNamingTheField(string replacement, string problem)
    {
        var path = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(path, WorkflowYaml.Portrait.Replace(replacement.StartsWith("node", StringComparison.Ordinal) ? "node: \"6\"" : "type: string", replacement, StringComparison.Ordinal));

        var workflow = Assert.Single(WorkflowDirectorySource.ReadFile(path));

        Assert.False(workflow.IsValid);
        Assert.Contains(workflow.Problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void ReadFile_UnknownPolicyAnnotation_IsInvalid()
    {
        var path = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(path, WorkflowYaml.Portrait.Replace("LeastQueued", "Fastest", StringComparison.Ordinal));

        var workflow = Assert.Single(WorkflowDirectorySource.ReadFile(path));

        Assert.Contains(workflow.Problems, p => p.Contains("unknown placement policy 'Fastest'", StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_FileWorkflowOverridesPresetOfSameName()
    {
        var catalog = new WorkflowCatalog();
        var custom = BuiltInWorkflows.Find("sd15")! with { Source = WorkflowSourceNames.File, Description = "mine" };

        catalog.Replace(WorkflowSourceNames.File, [custom]);

        Assert.Equal("mine", catalog.Find("sd15")!.Description);
        Assert.Equal(3, catalog.All.Count);
        catalog.Replace(WorkflowSourceNames.File, []);
        Assert.Equal(WorkflowSourceNames.Preset, catalog.Find("sd15")!.Source);
    }
}
