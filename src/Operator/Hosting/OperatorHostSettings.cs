using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Hosting;

/// <summary>How an <see cref="OperatorHost"/> is put together beyond <see cref="OperatorOptions"/> (tests and benches change these).</summary>
internal sealed record OperatorHostSettings
{
    /// <summary>Write logs to the console (<c>Logging:Format</c> text or json).</summary>
    public bool ConsoleLogging { get; init; } = true;

    /// <summary>Extra logger providers (tests capture logs with these).</summary>
    public IReadOnlyList<ILoggerProvider> LoggerProviders { get; init; } = [];

    /// <summary>Settings laid over the environment, e.g. <c>Metrics:BearerToken</c>.</summary>
    public IReadOnlyDictionary<string, string?>? Configuration { get; init; }

    /// <summary>Address the metrics/health port binds (<c>0.0.0.0</c> in a pod).</summary>
    public string ListenHost { get; init; } = "0.0.0.0";

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
