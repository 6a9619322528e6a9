using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// The shipped <c>comfy-router</c> binary as its own process, configured through environment
/// variables like the container image, so its CPU time is the router's alone.
/// </summary>
internal sealed class RouterProcess : IDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private volatile bool _stopping;

    private RouterProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    private const string RouterEnvironmentPrefix = "COMFY_BENCH_ROUTER_ENV_";

    /// <summary>Whether the router runs with server GC: only when this process's environment asks for it.</summary>
    public static bool ServerGc => Environment.GetEnvironmentVariable("DOTNET_gcServer") is "1";

    /// <summary>CPU time the router process has used so far (user + system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The router's process id (for <c>dotnet-trace</c>/<c>dotnet-counters</c> <c>-p</c>).</summary>
    public int Id => _process.Id;

    /// <summary>The router's resident memory now.</summary>
    public long WorkingSet
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    /// <param name="settings">Configuration keys (<c>Router:PendingLimit</c>) and values.</param>
    /// <param name="environment">Further environment variables of the router process (runtime knobs, startup hooks).</param>
    /// <param name="binary">Another build of <c>comfy-router</c> than the one this bench runs (<c>COMFY_BENCH_ROUTER</c>, else its own).</param>
    public static async Task<RouterProcess> StartAsync(IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string>? environment = null, string? binary = null)
    {
        var port = FreePort();
        // COMFY_BENCH_ROUTER names another build of the binary, e.g. the ReadyToRun publish the container image ships.
        binary = binary is not null ? Path.GetFullPath(binary)
            : Environment.GetEnvironmentVariable("COMFY_BENCH_ROUTER") is { Length: > 0 } other
            ? Path.GetFullPath(other)
            : Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "comfy-router.exe" : "comfy-router");
        var start = new ProcessStartInfo(binary)
        {
            WorkingDirectory = Path.GetDirectoryName(binary)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["COMFY_ROUTER__HOST"] = "127.0.0.1";
        start.Environment["COMFY_ROUTER__PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        // The container image runs the router with workstation GC and two malloc arenas (src/Router/Dockerfile); DOTNET_gcServer=1 measures server GC.
        start.Environment["DOTNET_gcServer"] = ServerGc ? "1" : "0";
        start.Environment["MALLOC_ARENA_MAX"] = "2";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        // A runtime knob for the router alone (not for the simulators in this process): COMFY_BENCH_ROUTER_ENV_<NAME>=<value>.
        foreach (var variable in Environment.GetEnvironmentVariables().Keys.OfType<string>().Where(k => k.StartsWith(RouterEnvironmentPrefix, StringComparison.Ordinal)))
        {
            start.Environment[variable[RouterEnvironmentPrefix.Length..]] = Environment.GetEnvironmentVariable(variable);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("comfy-router did not start.");
        var router = new RouterProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => router.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => router.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // A router that dies while a bench waits for its runs would leave the bench waiting: say so, with its last words.
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => router.OnExited();

        using var probe = new HttpClient { BaseAddress = router.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"comfy-router exited with {process.ExitCode}:{Environment.NewLine}{router.Output}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return router;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but busy starting (many workers, a loaded machine): ask again.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                router.Dispose();
                throw new TimeoutException($"comfy-router did not answer /healthz within 60 s:{Environment.NewLine}{router.Output}");
            }

            await Task.Delay(100);
        }
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnExited()
    {
        if (!_stopping)
        {
            // Waits for the redirected output to drain, so the last lines are in.
            _process.WaitForExit();
            Console.Error.WriteLine($"comfy-router (pid {_process.Id}) exited with code {_process.ExitCode} while the bench used it; its last output:{Environment.NewLine}{Output}");
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > 50)
            {
                _output.Dequeue();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
