using ComfyOperator.Entities;
using ComfyOperator.Router.Workflows;
using k8s.Models;

namespace ComfyOperator.Router.Tests.Workflows;

public sealed class WorkflowNameClashesTests
{
    private static WorkflowDefinition Deployment(string name, string ns, string preset = "sd15") =>
        WorkflowDefinitionFactory.Create(
            new WorkflowDeployment { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Spec = new WorkflowDeploymentSpec { Preset = preset } },
            WorkflowSourceNames.Kubernetes);

    [Fact]
    public void Refuse_SameNameInTwoNamespaces_OneInvalidWorkflowNamingBoth()
    {
        var served = WorkflowNameClashes.Refuse([Deployment("portrait", "team-b", "sdxl"), Deployment("portrait", "team-a"), Deployment("other", "team-a")]);

        Assert.Equal(["other", "portrait"], served.Select(w => w.Name));
        var clash = served.Single(w => w.Name == "portrait");
        Assert.False(clash.IsValid);
        var problem = Assert.Single(clash.Problems);
        Assert.Contains("team-a, team-b", problem, StringComparison.Ordinal);
        Assert.Contains("Router:Kubernetes:Namespaces", problem, StringComparison.Ordinal);
        Assert.True(served.Single(w => w.Name == "other").IsValid);
    }

    [Fact]
    public void Refuse_ListedInEitherOrder_SameResult()
    {
        var one = WorkflowNameClashes.Refuse([Deployment("portrait", "team-a"), Deployment("portrait", "team-b", "sdxl")]);
        var other = WorkflowNameClashes.Refuse([Deployment("portrait", "team-b", "sdxl"), Deployment("portrait", "team-a")]);

        Assert.Equal(one.Single().Problems, other.Single().Problems);
        Assert.Equal(one.Single().Preset, other.Single().Preset);
    }

    [Fact]
    public void Refuse_DistinctNames_ServedUnchanged()
    {
        var a = Deployment("a", "team-a");
        var b = Deployment("b", "team-b");

        var served = WorkflowNameClashes.Refuse([b, a]);

        Assert.Equal([a, b], served);
        Assert.All(served, w => Assert.True(w.IsValid, string.Join("; ", w.Problems)));
    }
}
