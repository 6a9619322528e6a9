using System.Reflection;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.EndToEnd.Tests.Observability;

/// <summary>
/// The operator process loads Kubernetes, Operator, Comfy and Observability; the router loads Router, Comfy,
/// Kubernetes and Observability. A log event id therefore names one message only if every product assembly
/// keeps its ids in its own range.
/// </summary>
public sealed class EventIdTests
{
    private static readonly Assembly[] ProductAssemblies =
    [
        typeof(ComfyOperator.Comfy.EventIds).Assembly,
        typeof(ComfyOperator.Kubernetes.EventIds).Assembly,
        typeof(ComfyOperator.Observability.EventIds).Assembly,
        typeof(ComfyOperator.Operator.EventIds).Assembly,
        typeof(ComfyOperator.Router.EventIds).Assembly,
        typeof(ComfyOperator.Entities.ComfyNode).Assembly,
    ];

    [Fact]
    public void LoggerMessages_EveryProductAssembly_HaveIdsInTheAssemblysRangeAndNoDuplicates()
    {
        var problems = new List<string>();
        var owners = new Dictionary<int, string>();
        var messages = 0;
        foreach (var assembly in ProductAssemblies)
        {
            var name = assembly.GetName().Name!;
            var methods = LoggerMessageMethods(assembly).ToList();
            messages += methods.Count;
            if (methods.Count == 0)
            {
                continue;
            }

            var range = Range(assembly);
            if (range is null)
            {
                problems.Add($"{name} has [LoggerMessage] methods but no EventIds class with RangeStart and RangeEnd");
                continue;
            }

            foreach (var (method, attribute) in methods)
            {
                var where = $"{method.DeclaringType!.FullName}.{method.Name}";
                if (attribute.EventId == -1)
                {
                    problems.Add($"{where} has no event id");
                }
                else if (attribute.EventId < range.Value.Start || attribute.EventId > range.Value.End)
                {
                    problems.Add($"{where} uses {attribute.EventId}, outside {name}'s range {range.Value.Start}-{range.Value.End}");
                }
                else if (!owners.TryAdd(attribute.EventId, where))
                {
                    problems.Add($"{where} reuses {attribute.EventId} of {owners[attribute.EventId]}");
                }
            }
        }

        Assert.True(messages > 50, $"found only {messages} [LoggerMessage] methods: the walk misses some");
        Assert.Empty(problems);
    }

    [Fact]
    public void EventIdRanges_ProductAssemblies_DoNotOverlap()
    {
        var ranges = ProductAssemblies
            .Select(assembly => (Name: assembly.GetName().Name!, Range: Range(assembly)))
            .Where(entry => entry.Range is not null)
            .Select(entry => (entry.Name, entry.Range!.Value.Start, entry.Range!.Value.End))
            .OrderBy(entry => entry.Start)
            .ToList();

        Assert.Equal(5, ranges.Count);
        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i - 1].End < ranges[i].Start, $"{ranges[i - 1].Name} and {ranges[i].Name} overlap");
        }
    }

    private static IEnumerable<(MethodInfo Method, LoggerMessageAttribute Attribute)> LoggerMessageMethods(Assembly assembly)
    {
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(All))
            {
                if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                {
                    yield return (method, attribute);
                }
            }
        }
    }

    private static (int Start, int End)? Range(Assembly assembly)
    {
        var eventIds = assembly.GetTypes().SingleOrDefault(type => type.Name == "EventIds");
        var start = eventIds?.GetField("RangeStart", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue();
        var end = eventIds?.GetField("RangeEnd", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue();
        return start is int s && end is int e ? (s, e) : null;
    }
}
