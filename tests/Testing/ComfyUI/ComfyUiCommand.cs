using System.Globalization;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>The <c>comfyui</c> verb: serves a ComfyUI simulator until stopped.</summary>
internal static class ComfyUiCommand
{
    public const string Usage =
        "comfyui [--host 127.0.0.1] [--port 8188] [--models DIR] [--input DIR] [--output DIR] [--temp DIR]\n" +
        "        [--step-delay-ms N] [--model-load-ms N] [--system-stats-delay-ms N] [--fail-at-node ID]\n" +
        "        [--gpu-name NAME] [--vram-bytes N] [--version V] [--max-upload-size MB]\n" +
        "        [--preview-method none|auto] [--disable-metadata]";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = new ComfyUiSimulatorOptions { Port = 8188 };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Ms() => double.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--host" or "--listen": options.Host = Next(); break;
                case "--port": options.Port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--models": options.ModelsDirectory = Next(); break;
                case "--input": options.InputDirectory = Next(); break;
                case "--output": options.OutputDirectory = Next(); break;
                case "--temp": options.TempDirectory = Next(); break;
                case "--step-delay-ms": options.StepDelay = TimeSpan.FromMilliseconds(Ms()); break;
                case "--model-load-ms": options.ModelLoadDelay = TimeSpan.FromMilliseconds(Ms()); break;
                case "--system-stats-delay-ms": options.SystemStatsDelay = TimeSpan.FromMilliseconds(Ms()); break;
                case "--fail-at-node": options.FailAtNode = Next(); break;
                case "--gpu-name": options.GpuName = Next(); break;
                case "--vram-bytes": options.VramTotal = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--version": options.Version = Next(); break;
                case "--max-upload-size": options.MaxUploadSizeMb = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--preview-method": options.PreviewMethod = Next(); break;
                case "--disable-metadata": options.DisableMetadata = true; break;
                default:
                    await Console.Error.WriteLineAsync($"comfyui: unknown option {args[i]}\nusage: {Usage}").ConfigureAwait(false);
                    return 2;
            }
        }

        // SIGTERM (kubectl delete, docker stop) stops as cleanly as Ctrl-C.
        using var terminated = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            terminated.Cancel();
        });
        cancellationToken = terminated.Token;
        await using var simulator = await ComfyUiSimulator.StartAsync(options, cancellationToken).ConfigureAwait(false);
        await Console.Out.WriteLineAsync(
            $"ComfyUI simulator listening on {simulator.BaseAddress} (models {simulator.ModelsDirectory}, input {simulator.InputDirectory}, output {simulator.OutputDirectory}); Ctrl-C to stop").ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return 0;
    }
}
