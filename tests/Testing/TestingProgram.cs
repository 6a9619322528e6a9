using ComfyOperator.Testing.ComfyUI;
using ComfyOperator.Testing.Kubelet;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing;

/// <summary>
/// Runs the test substrate standalone: <c>kube-api</c> (Kubernetes API emulator),
/// <c>kubelet</c> (kubelet simulator) and <c>comfyui</c> (ComfyUI simulator).
/// </summary>
internal static class TestingProgram
{
    public static async Task<int> Main(string[] args)
    {
        var verb = args.Length > 0 ? args[0] : "";
        var rest = args.Skip(1).ToArray();
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Normal exit: Main already returned and disposed the source.
            }
        };

        switch (verb)
        {
            case "kube-api":
                return await KubeApiCommand.RunAsync(rest, stop.Token);
            case "kube-api-bench":
                return await KubeApiBenchCommand.RunAsync(rest, stop.Token);
            case "kubelet":
                return await KubeletCommand.RunAsync(rest, stop.Token);
            case "comfyui":
                return await ComfyUiCommand.RunAsync(rest, stop.Token);
            case "comfyui-bench":
                return await ComfyUiBenchCommand.RunAsync(rest, stop.Token);
            default:
                await Console.Error.WriteLineAsync(
                    "usage: dotnet run --project tests/Testing -- <kube-api|kubelet|comfyui> [options]\n" +
                    "  kube-api --port <p> --kubeconfig <file>     Kubernetes API emulator\n" +
                    "  kube-api-bench [--objects n] [--writers w]   watch throughput of the emulator\n" +
                    "  kubelet  --kubeconfig <file>                 kubelet simulator: runs the emulator's pods as ComfyUI simulators\n" +
                    "  comfyui  --port <p> --models <dir> --output <dir>   ComfyUI simulator\n" +
                    "  comfyui-bench [--prompts N] [--instances N]          ComfyUI simulator figures");
                return 2;
        }
    }
}
