using System.Net;

namespace ComfyOperator.Comfy.Client;

/// <summary>
/// POST /prompt answered 400: the prompt was not queued. Keeps the typed top-level error and every
/// per-node error so a caller can say which node and input were wrong (docs/comfyui-protocol.md §2.4).
/// </summary>
public sealed class ComfyPromptRejectedException : ComfyHttpException
{
    public ComfyPromptRejectedException()
    {
        Error = new ComfyErrorDetail("", "", "", null);
        NodeErrors = new Dictionary<string, ComfyNodeError>();
    }

    public ComfyPromptRejectedException(string message)
        : base(message)
    {
        Error = new ComfyErrorDetail("", message, "", null);
        NodeErrors = new Dictionary<string, ComfyNodeError>();
    }

    public ComfyPromptRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = new ComfyErrorDetail("", message, "", null);
        NodeErrors = new Dictionary<string, ComfyNodeError>();
    }

    public ComfyPromptRejectedException(
        string path,
        ComfyErrorDetail error,
        IReadOnlyDictionary<string, ComfyNodeError> nodeErrors,
        string? body)
        : base("POST", path, HttpStatusCode.BadRequest, body, Describe(error, nodeErrors))
    {
        Error = error;
        NodeErrors = nodeErrors;
    }

    /// <summary>The top-level error; <see cref="ComfyErrorDetail.Type"/> is e.g. <c>prompt_outputs_failed_validation</c>.</summary>
    public ComfyErrorDetail Error { get; }

    /// <summary>Per-node errors keyed by node id (empty for no_prompt, invalid_prompt, prompt_no_outputs).</summary>
    public IReadOnlyDictionary<string, ComfyNodeError> NodeErrors { get; }

    /// <summary>Every per-node error detail flattened, with its node.</summary>
    public IEnumerable<(ComfyNodeError Node, ComfyErrorDetail Error)> AllNodeErrors =>
        NodeErrors.Values.SelectMany(n => n.Errors.Select(e => (n, e)));

    private static string Describe(ComfyErrorDetail error, IReadOnlyDictionary<string, ComfyNodeError> nodeErrors)
    {
        var text = $"ComfyUI rejected the prompt: {error}";
        if (nodeErrors.Count > 0)
        {
            text += "; " + string.Join("; ", nodeErrors.Values);
        }

        return text;
    }
}
