using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ComfyOperator.Comfy.Events;

// Events parsed per second by the session's parser (ComfyMessageParser), fed with the frames of
// one recorded-shape SD1.5 run (docs/comfyui-protocol.md §5.6: 20 sampler steps, progress_state, executed,
// completion) plus type 1 / type 4 preview frames. Usage: dotnet run -c Release --project bench/Comfy.Bench [seconds]
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3.0;
const string Pid = "5f0c7c1e-3b1a-4a7e-9a51-2c1d0e4b9f10";

var text = new List<byte[]>();
void Add(string json) => text.Add(Encoding.UTF8.GetBytes(json));
Add("""{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}}}""");
Add($$$"""{"type": "execution_start", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1760000000000}}""");
Add($$$"""{"type": "execution_cached", "data": {"nodes": [], "prompt_id": "{{{Pid}}}", "timestamp": 1760000000001}}""");
foreach (var node in new[] { "4", "5", "6", "7" })
{
    Add($$$"""{"type": "progress_state", "data": {"prompt_id": "{{{Pid}}}", "nodes": {"{{{node}}}": {"value": 0.0, "max": 1.0, "state": "running", "node_id": "{{{node}}}", "prompt_id": "{{{Pid}}}", "display_node_id": "{{{node}}}", "parent_node_id": null, "real_node_id": "{{{node}}}"} } } }""");
    Add($$$"""{"type": "executing", "data": {"node": "{{{node}}}", "display_node": "{{{node}}}", "prompt_id": "{{{Pid}}}"}}""");
}

Add($$$"""{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "{{{Pid}}}"}}""");
for (var step = 1; step <= 20; step++)
{
    Add($$$"""{"type": "progress_state", "data": {"prompt_id": "{{{Pid}}}", "nodes": {"4": {"value": 1.0, "max": 1.0, "state": "finished", "node_id": "4", "prompt_id": "{{{Pid}}}", "display_node_id": "4", "parent_node_id": null, "real_node_id": "4"}, "3": {"value": {{{step}}}.0, "max": 20.0, "state": "running", "node_id": "3", "prompt_id": "{{{Pid}}}", "display_node_id": "3", "parent_node_id": null, "real_node_id": "3"} } } }""");
    Add($$$"""{"type": "progress", "data": {"value": {{{step}}}, "max": 20, "prompt_id": "{{{Pid}}}", "node": "3"}}""");
}

Add($$$"""{"type": "executing", "data": {"node": "9", "display_node": "9", "prompt_id": "{{{Pid}}}"}}""");
Add($$$"""{"type": "executed", "data": {"node": "9", "display_node": "9", "output": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]}, "prompt_id": "{{{Pid}}}"}}""");
Add($$$"""{"type": "execution_success", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1760000004321}}""");
Add("""{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}}}""");
Add($$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}""");

// Previews: a 24 KB JPEG-sized payload, as a type 1 frame and as a type 4 frame.
var image = new byte[24 * 1024];
var type1 = new byte[8 + image.Length];
BinaryPrimitives.WriteUInt32BigEndian(type1, 1);
BinaryPrimitives.WriteUInt32BigEndian(type1.AsSpan(4), 1);
image.CopyTo(type1.AsSpan(8));
var meta = Encoding.UTF8.GetBytes($$$"""{"node_id": "3", "prompt_id": "{{{Pid}}}", "display_node_id": "3", "parent_node_id": null, "real_node_id": "3", "image_type": "image/jpeg"}""");
var type4 = new byte[8 + meta.Length + image.Length];
BinaryPrimitives.WriteUInt32BigEndian(type4, 4);
BinaryPrimitives.WriteUInt32BigEndian(type4.AsSpan(4), (uint)meta.Length);
meta.CopyTo(type4.AsSpan(8));
image.CopyTo(type4.AsSpan(8 + meta.Length));
var binary = new[] { type1, type4 };

Console.WriteLine($"frames per run: {text.Count} text ({text.Sum(t => t.Length)} bytes) + {binary.Length} binary previews");
Measure("text frames (one SD1.5 run, 20 steps)", () =>
{
    var n = 0;
    foreach (var frame in text)
    {
        n += ComfyMessageParser.ParseText(frame) is null ? 0 : 1;
    }

    return n;
});
Measure("binary preview frames (type 1 + type 4, 24 KB)", () =>
{
    var n = 0;
    foreach (var frame in binary)
    {
        n += ComfyMessageParser.ParseBinary(frame) is null ? 0 : 1;
    }

    return n;
});

void Measure(string name, Func<int> batch)
{
    // Warm up the JIT before timing.
    var warm = Stopwatch.StartNew();
    while (warm.Elapsed < TimeSpan.FromSeconds(0.5))
    {
        batch();
    }

    long events = 0;
    var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        events += batch();
    }

    watch.Stop();

    // The build machines are shared; CPU time makes the figure comparable when the wall clock is not.
    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
    var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: {events / watch.Elapsed.TotalSeconds:N0} events/s wall, {events / cpu:N0} events per CPU-second ({events:N0} events in {watch.Elapsed.TotalSeconds:F1} s wall / {cpu:F2} s CPU, {allocated / (double)events:N0} B allocated/event)"));
}
