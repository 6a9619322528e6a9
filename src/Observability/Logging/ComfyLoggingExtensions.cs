using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Observability.Logging;

/// <summary>Console log format switch shared by the router and the operator.</summary>
public static class ComfyLoggingExtensions
{
    public const string FormatKey = "Logging:Format";

    /// <summary>
    /// <c>Logging:Format</c> (env <c>Logging__Format</c>): <c>json</c> writes one JSON object per line with
    /// scopes (<c>run.id</c>, <c>node</c>, <c>resource.*</c>) and UTC timestamps; <c>text</c> (default) is the
    /// simple console format, with scopes too. Anything else stops the process naming the setting.
    /// </summary>
    public static ILoggingBuilder AddComfyLogging(this ILoggingBuilder logging, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(configuration);
        var format = configuration[FormatKey];
        if (string.IsNullOrWhiteSpace(format) || string.Equals(format, "text", StringComparison.OrdinalIgnoreCase) ||
            string.Equals(format, "simple", StringComparison.OrdinalIgnoreCase))
        {
            logging.AddSimpleConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
            });
        }
        else if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
                options.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            throw new InvalidOperationException($"{FormatKey} must be 'json' or 'text', not '{format}'.");
        }

        return logging;
    }
}
