namespace ComfyOperator.Comfy.Client;

/// <summary>POST /prompt answered 200: the prompt is queued.</summary>
/// <param name="PromptId">The prompt id (ours if we sent one).</param>
/// <param name="Number">The queue priority the server assigned.</param>
/// <param name="NodeErrors">Non-empty when some outputs failed validation and were dropped (docs/comfyui-protocol.md §2.3, §9.10).</param>
public sealed record ComfyPromptAccepted(string PromptId, double Number, IReadOnlyDictionary<string, ComfyNodeError> NodeErrors)
{
    /// <summary>True when some output nodes were dropped by validation.</summary>
    public bool HasDroppedOutputs => NodeErrors.Count > 0;
}
