using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// The <c>kube-api-bench</c> verb: figures for the emulator's watch path over real HTTP.
/// 1) live events: one watch open while W writers create N ConfigMaps; 2) initial events: a watch
/// without resourceVersion over the N stored objects (synthetic ADDED).
/// </summary>
internal static class KubeApiBenchCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var objects = 10_000;
        var writers = 8;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--objects":
                    objects = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--writers":
                    writers = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    await Console.Error.WriteLineAsync($"unknown option {args[i]}");
                    return 2;
            }
        }

        await using var emulator = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = objects * 2 }, cancellationToken);
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        const string path = "/api/v1/namespaces/default/configmaps";

        var watchTask = CountEventsAsync(http, $"{path}?watch=true&resourceVersion={emulator.ResourceVersion}", objects, cancellationToken);
        while (emulator.OpenWatchCount == 0)
        {
            await Task.Yield();
        }

        var sw = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < objects)
            {
                using var content = new StringContent($$$"""{"metadata":{"name":"cm-{{{n}}}","labels":{"bench":"true"}},"data":{"k":"value-{{{n}}}"}}""", Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
                response.EnsureSuccessStatusCode();
            }
        }));
        var writeSeconds = sw.Elapsed.TotalSeconds;
        await watchTask;
        var liveSeconds = sw.Elapsed.TotalSeconds;

        sw.Restart();
        await CountEventsAsync(http, $"{path}?watch=true", objects, cancellationToken);
        var initialSeconds = sw.Elapsed.TotalSeconds;

        var memory = GC.GetTotalMemory(forceFullCollection: true);
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"""
            kube-api-bench: {objects} ConfigMaps, {writers} concurrent writers, one watcher, HTTP on loopback
              creates:        {objects / writeSeconds,10:F0} writes/s  ({writeSeconds:F2} s)
              live watch:     {objects / liveSeconds,10:F0} events/s ({liveSeconds:F2} s until the watcher saw all {objects})
              initial watch:  {objects / initialSeconds,10:F0} events/s ({initialSeconds:F2} s for {objects} synthetic ADDED)
              managed heap after run: {memory / (1024.0 * 1024.0):F1} MiB
            """));
        return 0;
    }

    private static async Task CountEventsAsync(HttpClient http, string url, int expected, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var count = 0;
        while (count < expected && await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("{\"type\":\"ADDED\"", StringComparison.Ordinal))
            {
                count++;
            }
        }
    }
}
