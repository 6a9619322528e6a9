using System.Globalization;

namespace ComfyOperator.Testing.Kubelet;

/// <summary>
/// The <c>kubelet</c> verb: a <see cref="KubeletSimulator"/> against an API server (the emulator of
/// the <c>kube-api</c> verb) until stopped, so a newcomer's managed ComfyNodes get a running pod with a
/// ComfyUI simulator on 127.0.N.x and become Idle.
/// </summary>
internal static class KubeletCommand
{
    public const string Usage =
        "kubelet [--kubeconfig FILE (default $KUBECONFIG)] [--address-block N (127.0.N.x, default 20)]\n" +
        "        [--step-delay-ms N] [--model-load-ms N] [--pod-start-delay-ms N] [--gpu-name NAME] [--fail-init-label KEY]";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var kubeconfig = Environment.GetEnvironmentVariable("KUBECONFIG");
        var block = 20;
        TimeSpan? stepDelay = null;
        TimeSpan? modelLoad = null;
        var podStartDelay = TimeSpan.Zero;
        string? gpuName = null;
        string? failInitLabel = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--kubeconfig" when value is not null: kubeconfig = value; i++; break;
                case "--address-block" when value is not null: block = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--step-delay-ms" when value is not null: stepDelay = TimeSpan.FromMilliseconds(double.Parse(value, CultureInfo.InvariantCulture)); i++; break;
                case "--model-load-ms" when value is not null: modelLoad = TimeSpan.FromMilliseconds(double.Parse(value, CultureInfo.InvariantCulture)); i++; break;
                case "--pod-start-delay-ms" when value is not null: podStartDelay = TimeSpan.FromMilliseconds(double.Parse(value, CultureInfo.InvariantCulture)); i++; break;
                case "--gpu-name" when value is not null: gpuName = value; i++; break;
                case "--fail-init-label" when value is not null: failInitLabel = value; i++; break;
                default:
                    await Console.Error.WriteLineAsync($"kubelet: unknown or incomplete option {args[i]}\nusage: {Usage}");
                    return 2;
            }
        }

        if (string.IsNullOrEmpty(kubeconfig) || !File.Exists(kubeconfig))
        {
            await Console.Error.WriteLineAsync($"kubelet: --kubeconfig: '{kubeconfig}' is not a file (start `kube-api --kubeconfig FILE` first)\nusage: {Usage}");
            return 2;
        }

        if (block is < 1 or > 254)
        {
            await Console.Error.WriteLineAsync($"kubelet: --address-block: {block} is out of range 1..254");
            return 2;
        }

        using var terminated = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            terminated.Cancel();
        });
        await using var kubelet = KubeletSimulator.Start(new KubeletSimulatorOptions
        {
            Kubeconfig = kubeconfig,
            AddressBlock = block,
            PodStartDelay = podStartDelay,
            InitContainerExitCode = failInitLabel is null ? null : (pod, _) => pod.Metadata.Labels?.ContainsKey(failInitLabel) == true ? 1 : 0,
            ConfigureComfyUi = (_, comfy) =>
            {
                if (stepDelay is { } delay)
                {
                    comfy.StepDelay = delay;
                }

                if (modelLoad is { } load)
                {
                    comfy.ModelLoadDelay = load;
                }

                if (gpuName is not null)
                {
                    comfy.GpuName = gpuName;
                }
            },
        });
        await Console.Out.WriteLineAsync($"kubelet simulator: watching pods through {Path.GetFullPath(kubeconfig)}; each pod gets a ComfyUI simulator on 127.0.{block}.x; Ctrl-C to stop");
        await Console.Out.FlushAsync(terminated.Token);
        var reported = -1;
        try
        {
            while (!terminated.IsCancellationRequested)
            {
                if (kubelet.RunningPods != reported)
                {
                    reported = kubelet.RunningPods;
                    await Console.Out.WriteLineAsync($"kubelet simulator: {reported} pod(s) running ({kubelet.PodsStarted} started so far)");
                    await Console.Out.FlushAsync(terminated.Token);
                }

                // Progress line cadence for a person watching the terminal.
                await Task.Delay(TimeSpan.FromSeconds(1), terminated.Token);
            }
        }
        catch (OperationCanceledException) when (terminated.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM.
        }

        return 0;
    }
}
