using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;

namespace ComfyOperator.Comfy.Tests.Workflows;

public sealed class WorkflowBindingsTests
{
    private static readonly WorkflowGraph Sd15 = WorkflowGraph.Parse(ReferenceGraphs.Sd15);

    [Theory]
    [InlineData("3", "steps", WorkflowValueKind.WholeNumber)]
    [InlineData("3", "cfg", WorkflowValueKind.Number)]
    [InlineData("3", "steps", WorkflowValueKind.Number)]
    [InlineData("6", "text", WorkflowValueKind.Text)]
    public void Check_LiteralOfTheDeclaredKind_NoIssue(string node, string input, WorkflowValueKind kind)
    {
        Assert.Null(WorkflowBindings.Check(Sd15, node, input, kind));
    }

    [Fact]
    public void Check_MissingNode_NamesTheNode()
    {
        var issue = WorkflowBindings.Check(Sd15, "99", "steps", WorkflowValueKind.WholeNumber);

        Assert.Equal(WorkflowIssueCodes.BindingNodeMissing, issue?.Code);
        Assert.Equal("99", issue?.NodeId);
    }

    [Fact]
    public void Check_MissingInput_ListsTheInputsTheNodeHas()
    {
        var issue = WorkflowBindings.Check(Sd15, "3", "stepz", WorkflowValueKind.WholeNumber);

        Assert.Equal(WorkflowIssueCodes.BindingInputMissing, issue?.Code);
        Assert.Equal("stepz", issue?.InputName);
        Assert.Contains("steps", issue?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_InputFedByALink_Refused()
    {
        var issue = WorkflowBindings.Check(Sd15, "3", "model", WorkflowValueKind.Text);

        Assert.Equal(WorkflowIssueCodes.BindingToLink, issue?.Code);
    }

    [Fact]
    public void Check_WrongKind_SaysWhatTheGraphHolds()
    {
        var issue = WorkflowBindings.Check(Sd15, "6", "text", WorkflowValueKind.WholeNumber);

        Assert.Equal(WorkflowIssueCodes.BindingTypeMismatch, issue?.Code);
        Assert.Contains("holds a string, not an integer", issue?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7", WorkflowValueKind.WholeNumber, true)]
    [InlineData("7.5", WorkflowValueKind.WholeNumber, false)]
    [InlineData("7.5", WorkflowValueKind.Number, true)]
    [InlineData("true", WorkflowValueKind.Boolean, true)]
    [InlineData("\"x\"", WorkflowValueKind.Boolean, false)]
    [InlineData("\"x\"", WorkflowValueKind.Text, true)]
    public void Fits_JsonValue_MatchesKind(string json, WorkflowValueKind kind, bool fits)
    {
        Assert.Equal(fits, WorkflowBindings.Fits(JsonNode.Parse(json), kind));
    }
}
