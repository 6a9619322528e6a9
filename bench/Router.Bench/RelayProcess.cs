using System.Diagnostics;
using System.Globalization;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// A TCP relay that does nothing but pass bytes both ways (<see cref="DelayingProxy"/> with no delay), as its own
/// process (this bench run as <c>tcp-relay &lt;upstream port&gt;</c>): the least any process between a client and
/// its ComfyUI adds on this machine, waking up for every chunk either way, as the router does.
/// </summary>
internal sealed class RelayProcess(Process process, Uri address) : IDisposable
{
    public Uri Address => address;

    public static async Task<RelayProcess> StartAsync(Uri upstream)
    {
        // Run as a `dotnet <dll>` or as the apphost: either way, this same bench with the relay's command.
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(RelayProcess).Assembly.Location);
        }

        start.ArgumentList.Add("tcp-relay");
        start.ArgumentList.Add(upstream.Port.ToString(CultureInfo.InvariantCulture));
        start.Environment["MALLOC_ARENA_MAX"] = "2";
        var relay = Process.Start(start) ?? throw new InvalidOperationException("The TCP relay did not start.");
        var line = await relay.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
            ?? throw new InvalidOperationException("The TCP relay exited before it listened.");
        return new RelayProcess(relay, new Uri(line.Trim()));
    }

    /// <summary>The relay's side of <see cref="StartAsync"/>: relays to 127.0.0.1:<paramref name="upstreamPort"/> until its standard input closes.</summary>
    public static async Task ServeAsync(int upstreamPort)
    {
        await using var proxy = DelayingProxy.Start(new Uri($"http://127.0.0.1:{upstreamPort}"), TimeSpan.Zero);
        Console.WriteLine(proxy.Address);
        await Console.In.ReadToEndAsync();
    }

    public void Dispose()
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill();
        }

        process.Dispose();
    }
}
