namespace ComfyOperator.Comfy.Sessions;

/// <summary>A state change of a session; <see cref="Error"/> is why it left Connected, when known.</summary>
public sealed class ComfySessionStateChangedEventArgs(ComfySessionState previous, ComfySessionState current, Exception? error) : EventArgs
{
    public ComfySessionState Previous { get; } = previous;

    public ComfySessionState Current { get; } = current;

    public Exception? Error { get; } = error;
}
