namespace ComfyOperator.Install.Tests;

/// <summary>Helpers over the object trees YamlDotNet gives (string-keyed dictionaries and lists).</summary>
internal static class Tree
{
    public static object? Get(object? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (node is IReadOnlyDictionary<string, object?> map && map.TryGetValue(part, out var next))
            {
                node = next;
            }
            else if (node is IReadOnlyList<object?> list && int.TryParse(part, out var index) && index < list.Count)
            {
                node = list[index];
            }
            else
            {
                return null;
            }
        }

        return node;
    }

    public static IReadOnlyList<object?> List(object? node, string path) => Get(node, path) as IReadOnlyList<object?> ?? [];

    public static IReadOnlyDictionary<string, object?> Map(object? node, string path) =>
        Get(node, path) as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>();

    /// <summary>Turns YamlDotNet's Dictionary&lt;object, object&gt; / List&lt;object&gt; into string-keyed read-only trees.</summary>
    public static object? Normalize(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(e => Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture)!, e => Normalize(e.Value)) as IReadOnlyDictionary<string, object?>,
        IList<object?> list => list.Select(Normalize).ToList(),
        _ => node,
    };
}
