using System.Globalization;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// The <c>kube-api</c> verb: <c>kube-api [--port p] [--kubeconfig file] [--token t]
/// [--watch-history n] [--log-requests]</c> writes the kubeconfig, prints the address and serves until stopped.
/// </summary>
internal static class KubeApiCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = new KubeApiEmulatorOptions();
        string? kubeconfig = null;
        string? token = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--port" when value is not null:
                    options.Port = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--kubeconfig" when value is not null:
                    kubeconfig = value;
                    i++;
                    break;
                case "--token" when value is not null:
                    token = value;
                    options.RequiredBearerToken = value;
                    i++;
                    break;
                case "--log-requests":
                    options.RequestLog = line => Console.Out.WriteLine(line);
                    break;
                case "--watch-history" when value is not null:
                    options.WatchHistoryCapacity = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"kube-api: unknown or incomplete option {args[i]}\nusage: kube-api [--port p] [--kubeconfig file] [--token t] [--watch-history n] [--log-requests]");
                    return 2;
            }
        }

        await using var emulator = await KubeApiEmulator.StartAsync(options, cancellationToken);
        if (kubeconfig is not null)
        {
            emulator.WriteKubeconfig(kubeconfig, token);
            await Console.Out.WriteLineAsync($"kubeconfig: {Path.GetFullPath(kubeconfig)}");
        }

        await Console.Out.WriteLineAsync($"Kubernetes API emulator listening on {emulator.BaseAddress}");
        await Console.Out.FlushAsync(cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C
        }

        return 0;
    }
}
