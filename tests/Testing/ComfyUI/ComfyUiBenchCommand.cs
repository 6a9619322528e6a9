using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// The <c>comfyui-bench</c> verb: simulator overhead per prompt (zero-delay steps, HTTP + ws end to end) and the
/// memory of many simulators in one process. Prints figures; asserts nothing.
/// </summary>
internal static class ComfyUiBenchCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var prompts = ArgInt(args, "--prompts", 300);
        var instances = ArgInt(args, "--instances", 100);
        await Console.Out.WriteLineAsync($"ComfyUI simulator bench ({Environment.ProcessorCount} cores, {(Debugger.IsAttached ? "debugger" : "no debugger")})").ConfigureAwait(false);
        foreach (var size in new[] { 64, 512 })
        {
            await OverheadAsync(prompts, size, pipelined: false, cancellationToken).ConfigureAwait(false);
            await OverheadAsync(prompts, size, pipelined: true, cancellationToken).ConfigureAwait(false);
        }

        await MemoryAsync(instances, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static int ArgInt(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static JsonObject Sd15(long seed, int size) => JsonNode.Parse("""
        {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
         "5": {"class_type": "EmptyLatentImage", "inputs": {"width": SIZE, "height": SIZE, "batch_size": 1}},
         "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk", "clip": ["4", 1]}},
         "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
         "3": {"class_type": "KSampler", "inputs": {"seed": SEED, "steps": 20, "cfg": 7.5, "sampler_name": "euler", "scheduler": "normal",
               "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
         "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
         "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "bench", "images": ["8", 0]}}}
        """.Replace("SIZE", size.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
           .Replace("SEED", seed.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))!.AsObject();

    private static async Task OverheadAsync(int count, int size, bool pipelined, CancellationToken cancellationToken)
    {
        await using var sim = await ComfyUiSimulator.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{sim.BaseAddress.Authority}/ws?clientId=bench"), cancellationToken).ConfigureAwait(false);
        var done = 0;
        var frames = 0;
        var doneSignal = new SemaphoreSlim(0);
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[1 << 16];
            while (ws.State == WebSocketState.Open)
            {
                var result = await ws.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                frames++;
                if (result.EndOfMessage && result.MessageType == WebSocketMessageType.Text
                    && Encoding.UTF8.GetString(buffer, 0, result.Count).StartsWith("{\"type\":\"executing\",\"data\":{\"node\":null", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref done);
                    doneSignal.Release();
                }
            }
        }, cancellationToken);

        async Task SubmitAsync(int i)
        {
            using var response = await http.PostAsJsonAsync("prompt", new JsonObject { ["prompt"] = Sd15(i, size), ["client_id"] = "bench" }, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
        }

        // Warm-up (JIT, model load).
        await SubmitAsync(1_000_000).ConfigureAwait(false);
        await doneSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
        var start = Stopwatch.GetTimestamp();
        if (pipelined)
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(SubmitAsync)).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                await doneSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                await SubmitAsync(i).ConfigureAwait(false);
                await doneSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"overhead {size}x{size} SD1.5 (20 zero-delay steps, {count} fresh prompts, {(pipelined ? "all queued at once" : "one at a time")}): " +
            $"{count / elapsed.TotalSeconds:F0} prompts/s, {elapsed.TotalMilliseconds / count:F2} ms/prompt, {frames / (double)(count + 1):F0} ws frames/prompt")).ConfigureAwait(false);
        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
        try
        {
            await reader.ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
        }
    }

    private static async Task MemoryAsync(int count, CancellationToken cancellationToken)
    {
        var before = Measure();
        var sims = new List<ComfyUiSimulator>();
        for (var i = 0; i < count; i++)
        {
            sims.Add(await ComfyUiSimulator.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        var idle = Measure();
        await Task.WhenAll(sims.Select(async sim =>
        {
            using var http = new HttpClient { BaseAddress = sim.BaseAddress };
            using var response = await http.PostAsJsonAsync("prompt", new JsonObject { ["prompt"] = Sd15(1, 64) }, cancellationToken).ConfigureAwait(false);
            var id = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false))!["prompt_id"]!.GetValue<string>();
            while ((await http.GetFromJsonAsync<JsonObject>($"history/{id}", cancellationToken).ConfigureAwait(false))!.Count == 0)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        })).ConfigureAwait(false);
        var used = Measure();
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"memory {count} simulators idle: managed +{(idle.Managed - before.Managed) / 1048576.0:F1} MB ({(idle.Managed - before.Managed) / 1024.0 / count:F0} KB each), " +
            $"working set +{(idle.WorkingSet - before.WorkingSet) / 1048576.0:F1} MB ({(idle.WorkingSet - before.WorkingSet) / 1024.0 / count:F0} KB each)")).ConfigureAwait(false);
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"memory {count} simulators after one 64x64 SD1.5 prompt each: managed +{(used.Managed - before.Managed) / 1048576.0:F1} MB, " +
            $"working set +{(used.WorkingSet - before.WorkingSet) / 1048576.0:F1} MB; threads {Process.GetCurrentProcess().Threads.Count}")).ConfigureAwait(false);
        await Task.WhenAll(sims.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    private static (long Managed, long WorkingSet) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }
}
