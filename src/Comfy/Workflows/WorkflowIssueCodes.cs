namespace ComfyOperator.Comfy.Workflows;

/// <summary>Stable codes of <see cref="WorkflowIssue"/>; ComfyUI's own type names where one exists.</summary>
public static class WorkflowIssueCodes
{
    public const string MissingLinkTarget = "missing_link_target";
    public const string BadOutputIndex = "bad_output_index";
    public const string NumericLinkId = "numeric_link_id";
    public const string BadLink = "bad_linked_input";
    public const string UnknownClassType = "unknown_class_type";
    public const string MissingRequiredInput = "required_input_missing";
    public const string InvalidInputType = "invalid_input_type";
    public const string ValueNotInList = "value_not_in_list";
    public const string ValueOutOfRange = "value_out_of_range";
    public const string ReturnTypeMismatch = "return_type_mismatch";
    public const string NoOutputs = "prompt_no_outputs";

    // Binding a value from outside (a declared input) to a node input: see WorkflowBindings.
    public const string BindingNodeMissing = "binding_node_missing";
    public const string BindingInputMissing = "binding_input_missing";
    public const string BindingToLink = "binding_to_link";
    public const string BindingTypeMismatch = "binding_type_mismatch";
}
