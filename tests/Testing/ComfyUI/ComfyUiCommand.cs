namespace ComfyOperator.Testing.ComfyUI;

/// <summary>The <c>comfyui</c> verb: serves a ComfyUI simulator until stopped.</summary>
internal static class ComfyUiCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        _ = args;
        await Console.Error.WriteLineAsync("comfyui: not built yet");
        await Task.CompletedTask.WaitAsync(cancellationToken);
        return 1;
    }
}
