using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// The checkpoint each worker was last given, to count model loads (a run whose checkpoint differs
/// from the previous one on that worker makes ComfyUI load another model into VRAM).
/// </summary>
internal sealed class CheckpointTracker
{
    private readonly ConcurrentDictionary<Uri, string> _last = new();

    /// <summary>The checkpoint <paramref name="worker"/> was last given (the model it most likely holds), or null.</summary>
    public string? LastOn(Uri worker) => _last.GetValueOrDefault(worker);

    /// <summary>Records the graph's checkpoint for <paramref name="worker"/>; true when it differs from the last one there.</summary>
    public bool Switches(Uri worker, JsonObject graph)
    {
        if (CheckpointOf(graph) is not { } checkpoint)
        {
            return false;
        }

        var previous = _last.GetValueOrDefault(worker);
        _last[worker] = checkpoint;
        return !string.Equals(previous, checkpoint, StringComparison.Ordinal);
    }

    internal static string? CheckpointOf(JsonObject graph)
    {
        foreach (var (_, value) in graph)
        {
            if (value is not JsonObject node || node["inputs"] is not JsonObject inputs || node["class_type"]?.GetValue<string>() is not { } classType)
            {
                continue;
            }

            foreach (var (name, input) in inputs)
            {
                if (input is JsonValue text && text.TryGetValue<string>(out var file)
                    && ModelFolders.For(classType, name) is "checkpoints" or "diffusion_models")
                {
                    return file;
                }
            }
        }

        return null;
    }
}
