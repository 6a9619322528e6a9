namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// <c>GET /view</c> held (a slow disk or network): <see cref="Arrived"/> completes when a request starts waiting,
/// <see cref="Released"/> lets them go, its result saying whether the files are then answered as gone (404).
/// </summary>
internal sealed class ViewHold
{
    public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
