using System.Globalization;
using System.Net.Sockets;
using System.Text;

#pragma warning disable CA1050 // The runtime looks the hook type up by this exact name, outside any namespace.

/// <summary>
/// Loaded into the router process by <c>DOTNET_STARTUP_HOOKS</c> (the <c>lifecycle</c> bench only):
/// answers the router's exact allocation and GC heap figures on a Unix socket, so they come from the
/// router's own runtime without a profiler attached. It does nothing unless
/// <c>COMFY_BENCH_STATS_SOCKET</c> is set; its thread sleeps in <c>Accept</c>/<c>Receive</c>.
/// </summary>
public static class StartupHook
{
    public const string SocketVariable = "COMFY_BENCH_STATS_SOCKET";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(SocketVariable) is not { Length: > 0 } path)
        {
            return;
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        new Thread(() => Serve(listener)) { IsBackground = true, Name = "bench-stats" }.Start();
    }

    /// <summary>One line per request byte: 'r' reads, 'c' collects fully first.</summary>
    private static void Serve(Socket listener)
    {
        while (true)
        {
            using var connection = listener.Accept();
            var command = new byte[1];
            while (connection.Receive(command) == 1)
            {
                if (command[0] == (byte)'c')
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                }

                var line = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{GC.GetTotalAllocatedBytes(precise: true)} {GC.GetTotalMemory(forceFullCollection: false)} {GC.GetGCMemoryInfo().TotalCommittedBytes} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {ThreadPool.ThreadCount} {System.Runtime.JitInfo.GetCompilationTime().Ticks} {System.Runtime.JitInfo.GetCompiledMethodCount()}\n");
                connection.Send(Encoding.ASCII.GetBytes(line));
            }
        }
    }
}
