using System.Text.Json;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;
using ComfyOperator.Operator.Workflows;

namespace ComfyOperator.Operator.Tests.Workflows;

public sealed class WorkflowValidatorTests
{
    private static JsonElement Graph(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static WorkflowInput Input(string name, string node, string input, string type, string? defaultJson = null) => new()
    {
        Name = name,
        Node = node,
        Input = input,
        Type = type,
        Default = defaultJson is null ? null : Graph(defaultJson),
    };

    [Fact]
    public void Validate_Sd15WithTypedInputs_NoErrors()
    {
        var spec = new WorkflowDeploymentSpec
        {
            Inputs = [Input("prompt", "6", "text", WorkflowInputType.StringType), Input("steps", "3", "steps", WorkflowInputType.IntegerType, "20"), Input("cfg", "3", "cfg", WorkflowInputType.NumberType)],
            Outputs = [new WorkflowOutput { Name = "image", Node = "9" }],
        };

        Assert.Empty(WorkflowValidator.Validate(Graph(ReferenceGraphs.Sd15), spec));
    }

    [Fact]
    public void Validate_BrokenLinkBadInputWrongDefaultUnknownOutput_EachNamesNodeAndField()
    {
        var graph = Graph(ReferenceGraphs.Sd15.Replace("\"positive\": [\"6\", 0]", "\"positive\": [\"66\", 0]", StringComparison.Ordinal));
        var spec = new WorkflowDeploymentSpec
        {
            Inputs = [Input("steps", "3", "stepz", WorkflowInputType.IntegerType), Input("prompt", "6", "text", WorkflowInputType.StringType, "5"), Input("x", "42", "text", WorkflowInputType.StringType)],
            Outputs = [new WorkflowOutput { Name = "image", Node = "10" }],
        };

        var errors = WorkflowValidator.Validate(graph, spec);

        Assert.Contains(errors, e => e.Node == "3" && e.Field == "positive" && e.Message.Contains("#66", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Node == "3" && e.Field == "stepz");
        Assert.Contains(errors, e => e.Node == "6" && e.Field == "spec.inputs[1].default");
        Assert.Contains(errors, e => e.Node == "42" && e.Field == "spec.inputs[2].node");
        Assert.Contains(errors, e => e.Node == "10" && e.Field == "spec.outputs[0].node");
    }

    [Fact]
    public void Validate_InputDeclaredIntegerOverAString_TypeMismatch()
    {
        var spec = new WorkflowDeploymentSpec { Inputs = [Input("prompt", "6", "text", WorkflowInputType.IntegerType)] };

        var error = Assert.Single(WorkflowValidator.Validate(Graph(ReferenceGraphs.Sd15), spec));

        Assert.Equal("text", error.Field);
        Assert.Contains("holds a string, not an integer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UiFormat_ExplainsTheExport()
    {
        var error = Assert.Single(WorkflowValidator.Validate(Graph("""{"nodes": [], "links": [], "version": 0.4}"""), new WorkflowDeploymentSpec()));

        Assert.Equal("spec.workflow", error.Field);
        Assert.Contains("Export (API)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoOutputNode_Reported()
    {
        var errors = WorkflowValidator.Validate(Graph("""{"1": {"class_type": "EmptyImage", "inputs": {"width": 8}}}"""), new WorkflowDeploymentSpec());

        Assert.Contains(errors, e => e.Field == "spec.workflow" && e.Message.Contains("no output node", StringComparison.Ordinal));
    }
}
