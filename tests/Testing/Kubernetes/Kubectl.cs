using System.Diagnostics;
using System.Text;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// Runs the real <c>kubectl</c> against a kubeconfig, with a private discovery cache
/// (<c>KUBECACHEDIR</c>) and a timeout per run. A missing binary is an error, never a skip.
/// </summary>
public sealed class Kubectl : IDisposable
{
    private readonly string _kubeconfig;
    private readonly string _cacheDir;

    public Kubectl(string kubeconfig)
    {
        _kubeconfig = kubeconfig;
        _cacheDir = Path.Combine(Path.GetTempPath(), "kubectl-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_cacheDir);
    }

    /// <summary>/usr/bin/kubectl, or the first kubectl on PATH.</summary>
    public static string ExecutablePath
    {
        get
        {
            var candidates = new List<string> { "/usr/bin/kubectl", "/usr/local/bin/kubectl" };
            candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(p => Path.Combine(p, "kubectl")));
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException("kubectl is not installed (expected /usr/bin/kubectl); the kubectl scenarios need it");
        }
    }

    public async Task<KubectlResult> RunAsync(IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var process = Start(args, redirectInput: stdin is not null);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), cts.Token);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish within {timeout ?? TimeSpan.FromSeconds(30)}");
        }

        return new KubectlResult(process.ExitCode, await stdout, await stderr);
    }

    public Task<KubectlResult> RunAsync(string args, string? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunAsync(args.Split(' ', StringSplitOptions.RemoveEmptyEntries), stdin, timeout, cancellationToken);

    /// <summary>Starts a long-running kubectl (e.g. <c>get -w</c>); dispose the result to kill it.</summary>
    public KubectlProcess StartStreaming(IEnumerable<string> args) => new(Start(args, redirectInput: false));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_cacheDir, recursive: true);
        }
        catch (IOException)
        {
            // best effort cleanup of a temp folder
        }
    }

    private Process Start(IEnumerable<string> args, bool redirectInput)
    {
        var info = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("--kubeconfig");
        info.ArgumentList.Add(_kubeconfig);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["KUBECACHEDIR"] = _cacheDir;
        info.Environment["HOME"] = _cacheDir;
        info.Environment.Remove("KUBECONFIG");
        return Process.Start(info) ?? throw new InvalidOperationException("could not start kubectl");
    }
}
