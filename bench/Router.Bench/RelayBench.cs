using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.ComfyApi;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 16: the router's cost per worker message it relays to a ComfyUI client, over the real frames of one
/// prompt from a simulated worker (SD1.5 64x64, 1 step, previews on): reading the worker's frame into its typed
/// message (the worker session's part) and writing the client's frame with the client's prompt id (the relay's
/// part). Prints CPU time and bytes allocated per message, per message type and over the whole prompt.
/// </summary>
internal static class RelayBench
{
    private const string ClientPromptId = "a-client-chosen-prompt-id";

    public static async Task RunAsync(int rounds)
    {
        List<WorkerFrame> frames;
        await using (var worker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { PreviewMethod = "auto" }))
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            frames = [.. await WorkerFrames.CaptureAsync(worker.BaseAddress, "relay-bench", previewMetadata: true, [BenchGraph.Sd15(1)], cancel.Token)];
        }

        var types = frames.Select(f => Parse(f).Type).ToList();
        Console.WriteLine($"Relaying one prompt's {frames.Count} worker messages to a ComfyUI client ({string.Join(", ", types.GroupBy(t => t).Select(g => $"{g.Count()} {g.Key}"))}), {rounds} rounds after as many to warm up:");
        for (var i = 0; i < rounds; i++)
        {
            Relay(frames);
        }

        var read = new Cost[frames.Count];
        var write = new Cost[frames.Count];
        for (var i = 0; i < rounds; i++)
        {
            for (var f = 0; f < frames.Count; f++)
            {
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                var message = Parse(frames[f]);
                var parsed = Stopwatch.GetTimestamp();
                var afterParse = GC.GetAllocatedBytesForCurrentThread();
                Write(message);
                read[f] += new Cost(parsed - started, afterParse - allocated);
                write[f] += new Cost(Stopwatch.GetTimestamp() - parsed, GC.GetAllocatedBytesForCurrentThread() - afterParse);
            }
        }

        Console.WriteLine("  message type                          read: µs  bytes    write: µs  bytes   (per message)");
        foreach (var group in Enumerable.Range(0, frames.Count).GroupBy(f => types[f]))
        {
            Print(group.Key, group.Sum(f => read[f].Ticks), group.Sum(f => read[f].Bytes), group.Sum(f => write[f].Ticks), group.Sum(f => write[f].Bytes), group.Count() * (long)rounds);
        }

        Print("all (per message)", read.Sum(c => c.Ticks), read.Sum(c => c.Bytes), write.Sum(c => c.Ticks), write.Sum(c => c.Bytes), frames.Count * (long)rounds);
        Print("one prompt", read.Sum(c => c.Ticks), read.Sum(c => c.Bytes), write.Sum(c => c.Ticks), write.Sum(c => c.Bytes), rounds);
    }

    private static void Relay(List<WorkerFrame> frames)
    {
        foreach (var frame in frames)
        {
            Write(Parse(frame));
        }
    }

    private static ComfyEvent Parse(WorkerFrame frame) =>
        frame.Binary ? ComfyMessageParser.ParseBinary(frame.Bytes) : ComfyMessageParser.ParseText(frame.Bytes);

    /// <summary>As the relay does: an <c>executed</c> output is copied (its files renamed for <c>/view</c>) before it is written.</summary>
    private static void Write(ComfyEvent message) =>
        ComfyMessages.From(message, ClientPromptId, previewMetadata: true, (message as ComfyExecutedEvent)?.Output?.DeepClone() as JsonObject);

    private static void Print(string name, long readTicks, long readBytes, long writeTicks, long writeBytes, long count) =>
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {name,-36} {Micros(readTicks) / count,8:0.00} {readBytes / count,7}    {Micros(writeTicks) / count,8:0.00} {writeBytes / count,7}"));

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private readonly record struct Cost(long Ticks, long Bytes)
    {
        public static Cost operator +(Cost a, Cost b) => new(a.Ticks + b.Ticks, a.Bytes + b.Bytes);
    }
}
