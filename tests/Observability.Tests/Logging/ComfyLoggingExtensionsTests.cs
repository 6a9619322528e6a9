using System.Text.Json;
using ComfyOperator.Observability.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Observability.Tests.Logging;

public sealed class ComfyLoggingExtensionsTests
{
    [Fact]
    public void AddComfyLogging_FormatJson_WritesOneJsonObjectWithRunNodeAndResourceScopes()
    {
        using var provider = Build("json");
        var options = provider.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var formatter = provider.GetServices<ConsoleFormatter>().Single(f => f.Name == options.FormatterName);
        var scopes = new LoggerExternalScopeProvider();
        var logger = new ScopeOnlyLogger(scopes);
        using var writer = new StringWriter();

        using (logger.BeginRunScope("run-42"))
        using (logger.BeginNodeScope("http://gpu-1:8188"))
        using (logger.BeginResourceScope("ComfyNode", "prod", "gpu-1"))
        {
            formatter.Write(new LogEntry<string>(LogLevel.Information, "Router", new EventId(7, "Dispatched"), "dispatched", null, (s, _) => s), scopes, writer);
        }

        var line = writer.ToString().TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal(7, root.GetProperty("EventId").GetInt32());
        Assert.EndsWith("Z", root.GetProperty("Timestamp").GetString()!.Trim());
        var scopeProperties = root.GetProperty("Scopes").EnumerateArray().SelectMany(s => s.EnumerateObject()).Where(p => p.Name != "Message").ToDictionary(p => p.Name, p => p.Value.ToString());
        Assert.Equal("run-42", scopeProperties["run.id"]);
        Assert.Equal("http://gpu-1:8188", scopeProperties["node"]);
        Assert.Equal("ComfyNode", scopeProperties["resource.kind"]);
        Assert.Equal("prod", scopeProperties["resource.namespace"]);
        Assert.Equal("gpu-1", scopeProperties["resource.name"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text")]
    public void AddComfyLogging_DefaultOrText_UsesSimpleFormatterWithScopes(string? format)
    {
        using var provider = Build(format);

        Assert.Equal(ConsoleFormatterNames.Simple, provider.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
        Assert.True(provider.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
    }

    [Fact]
    public void AddComfyLogging_UnknownFormat_ThrowsNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build("xml"));

        Assert.Contains("Logging:Format", error.Message);
    }

    [Fact]
    public void ComfyLogScopes_TextFormatter_ShowsKeyValuePairs()
    {
        var scopes = new LoggerExternalScopeProvider();
        var logger = new ScopeOnlyLogger(scopes);
        var seen = new List<string>();

        using (logger.BeginResourceScope("ComfyNode", "prod", "gpu-1"))
        {
            scopes.ForEachScope((scope, list) => list.Add(scope!.ToString()!), seen);
        }

        Assert.Equal(["resource.kind:ComfyNode resource.namespace:prod resource.name:gpu-1"], seen);
    }

    private static ServiceProvider Build(string? format)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Format"] = format }).Build();
        return new ServiceCollection().AddLogging(logging => logging.AddComfyLogging(configuration)).BuildServiceProvider();
    }

    /// <summary>Pushes scopes into the provider a console logger would read them from.</summary>
    private sealed class ScopeOnlyLogger(IExternalScopeProvider scopes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
