namespace ComfyOperator.Router.Inputs;

/// <summary>An input the router will not fetch or store; the API answers it with 400 naming the input and the reason.</summary>
internal sealed class InputRefusedException : Exception
{
    public InputRefusedException()
        : this("input", "refused")
    {
    }

    public InputRefusedException(string message)
        : this("input", message)
    {
    }

    public InputRefusedException(string message, Exception innerException)
        : this("input", message, innerException)
    {
    }

    public InputRefusedException(string inputName, string reason, Exception? innerException = null)
        : base($"Input '{inputName}' refused: {reason}", innerException)
    {
        InputName = inputName;
        Reason = reason;
    }

    public string InputName { get; }

    public string Reason { get; }
}
