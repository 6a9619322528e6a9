using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// comfy_execution/graph.py's ExecutionList: pending nodes in staging order, strong links from uncached
/// upstream nodes, and the "UX friendly" pick (ready output nodes first, then nodes feeding an output,
/// then nodes two steps from one, else the first ready node).
/// </summary>
internal sealed class ExecutionOrder(JsonObject prompt, Func<string, bool> isCached)
{
    private readonly OrderedDictionary<string, bool> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _blockCount = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrderedDictionary<string, bool>> _blocking = new(StringComparer.Ordinal);

    public void Add(string nodeId)
    {
        var stack = new List<string> { nodeId };
        var links = new List<(string From, string To)>();
        while (stack.Count > 0)
        {
            var id = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            if (_pending.ContainsKey(id))
            {
                continue;
            }

            _pending[id] = true;
            _blockCount[id] = 0;
            _blocking[id] = new OrderedDictionary<string, bool>(StringComparer.Ordinal);
            if (prompt[id]?["inputs"] is not JsonObject inputs)
            {
                continue;
            }

            foreach (var (_, value) in inputs)
            {
                if (value is JsonArray { Count: 2 } link && link[0] is JsonValue && prompt.ContainsKey(PythonText.Str(link[0])))
                {
                    var from = PythonText.Str(link[0]);
                    if (!isCached(from))
                    {
                        stack.Add(from);
                        links.Add((from, id));
                    }
                }
            }
        }

        foreach (var (from, to) in links)
        {
            if (_blocking.TryGetValue(from, out var blocked) && blocked.TryAdd(to, true))
            {
                _blockCount[to]++;
            }
        }
    }

    public string? Next()
    {
        var ready = _pending.Keys.Where(id => _blockCount[id] == 0).ToList();
        if (ready.Count == 0)
        {
            return null;
        }

        foreach (var id in ready)
        {
            if (IsOutput(id))
            {
                return id;
            }
        }

        foreach (var id in ready)
        {
            if (_blocking[id].Keys.Any(IsOutput))
            {
                return id;
            }
        }

        foreach (var id in ready)
        {
            if (_blocking[id].Keys.Any(b => _blocking.TryGetValue(b, out var next) && next.Keys.Any(IsOutput)))
            {
                return id;
            }
        }

        return ready[0];
    }

    public void Complete(string nodeId)
    {
        foreach (var blocked in _blocking[nodeId].Keys)
        {
            _blockCount[blocked]--;
        }

        _pending.Remove(nodeId);
        _blocking.Remove(nodeId);
    }

    private bool IsOutput(string id) =>
        NodeLibrary.Find(PythonText.Str(prompt[id]?["class_type"])) is { OutputNode: true };
}
