namespace ComfyOperator.Testing.Kubernetes;

/// <summary>The <c>kube-api</c> verb: serves the Kubernetes API emulator until stopped.</summary>
internal static class KubeApiCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        _ = args;
        await Console.Error.WriteLineAsync("kube-api: not built yet");
        await Task.CompletedTask.WaitAsync(cancellationToken);
        return 1;
    }
}
