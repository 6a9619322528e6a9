using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Nodes;

/// <summary>The node library of one worker (GET /object_info). Cache it per worker; it is large.</summary>
public sealed class ComfyObjectInfo
{
    private readonly Dictionary<string, ComfyNodeInfo> _nodes;

    public ComfyObjectInfo(IEnumerable<ComfyNodeInfo> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        _nodes = new Dictionary<string, ComfyNodeInfo>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            _nodes[node.Name] = node;
        }
    }

    public IReadOnlyDictionary<string, ComfyNodeInfo> Nodes => _nodes;

    public ComfyNodeInfo? Find(string classType) => _nodes.GetValueOrDefault(classType);

    /// <summary>Parses the body of GET /object_info (or /object_info/{class}).</summary>
    public static ComfyObjectInfo Parse(JsonObject? body)
    {
        var nodes = new List<ComfyNodeInfo>();
        if (body is not null)
        {
            foreach (var (name, value) in body)
            {
                if (value is JsonObject info)
                {
                    nodes.Add(ComfyNodeInfo.Parse(name, info));
                }
            }
        }

        return new ComfyObjectInfo(nodes);
    }

    /// <summary>Parses the JSON text of GET /object_info.</summary>
    public static ComfyObjectInfo Parse(string json) => Parse(JsonNode.Parse(json) as JsonObject);
}
