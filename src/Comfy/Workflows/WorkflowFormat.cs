namespace ComfyOperator.Comfy.Workflows;

/// <summary>What a pasted JSON document is (docs/comfyui-protocol.md §6.4).</summary>
public enum WorkflowFormat
{
    /// <summary>Not recognisable: not an object, empty, or nodes without class_type.</summary>
    Unknown,

    /// <summary>API format: node id → {class_type, inputs}. What POST /prompt takes.</summary>
    ApiPrompt,

    /// <summary>The editor's saved workflow (nodes/links arrays). Must be exported with "Export (API)".</summary>
    UiWorkflow,

    /// <summary>A whole POST /prompt body (<c>{"prompt": {...}, "client_id": ...}</c>).</summary>
    RequestBody,
}
