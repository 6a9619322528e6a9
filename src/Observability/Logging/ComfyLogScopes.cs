using Microsoft.Extensions.Logging;

namespace ComfyOperator.Observability.Logging;

/// <summary>The identity scopes both binaries use, with stable property names for log queries.</summary>
public static class ComfyLogScopes
{
    public const string RunId = "run.id";
    public const string Node = "node";
    public const string ResourceKind = "resource.kind";
    public const string ResourceNamespace = "resource.namespace";
    public const string ResourceName = "resource.name";

    public static IDisposable? BeginRunScope(this ILogger logger, string runId)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return logger.BeginScope(new LogScope([new(RunId, runId)]));
    }

    public static IDisposable? BeginNodeScope(this ILogger logger, string node)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return logger.BeginScope(new LogScope([new(Node, node)]));
    }

    public static IDisposable? BeginResourceScope(this ILogger logger, string kind, string? resourceNamespace, string name)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return logger.BeginScope(new LogScope([new(ResourceKind, kind), new(ResourceNamespace, resourceNamespace), new(ResourceName, name)]));
    }
}
