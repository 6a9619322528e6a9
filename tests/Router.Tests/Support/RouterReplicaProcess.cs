using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>
/// The shipped <c>comfy-router</c> binary (built next to the tests) in a process of its own, with
/// settings as environment variables, so a test can kill it outright (SIGKILL) as a crash would.
/// </summary>
internal sealed class RouterReplicaProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RouterReplicaProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the process; it may not listen yet (a standby replica listens once it is active).</summary>
    public static RouterReplicaProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var binary = Path.Combine(AppContext.BaseDirectory, "comfy-router");
        var start = new ProcessStartInfo(binary)
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var port = FreePort();
        start.Environment["COMFY_ROUTER__HOST"] = "127.0.0.1";
        start.Environment["COMFY_ROUTER__PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["COMFY_ROUTER__API_KEYS"] = RouterFactory.ApiKey;
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start.");
        var router = new RouterReplicaProcess(process, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"));
        process.OutputDataReceived += (_, e) => router.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => router.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return router;
    }

    /// <summary>True once the router answers <c>/healthz</c>.</summary>
    public async Task<bool> IsServingAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"comfy-router exited with {_process.ExitCode}:{Environment.NewLine}{Output}");
        }

        try
        {
            using var response = await Client.GetAsync(new Uri("/healthz", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, sockets are closed by the kernel.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        Client.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
