using System.Diagnostics;

namespace ComfyOperator.Testing.Prometheus;

/// <summary>
/// Runs <c>promtool check metrics</c> (Debian package <c>prometheus</c>, installed by
/// scripts/install-test-deps.sh) on an exposition. A missing promtool is a failure, not a skip.
/// </summary>
public static class Promtool
{
    public static string Path { get; } = Environment.GetEnvironmentVariable("PROMTOOL") ?? "/usr/bin/promtool";

    /// <summary>Returns promtool's exit code and combined output for <paramref name="exposition"/>.</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string exposition, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException($"promtool not found at {Path}: run scripts/install-test-deps.sh (apt-get install prometheus).");
        }

        var start = new ProcessStartInfo(Path, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardInput.WriteAsync(exposition.AsMemory(), cancellationToken);
        process.StandardInput.Close();
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, (await stdout) + (await stderr));
    }
}
