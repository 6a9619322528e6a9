using System.Globalization;
using System.Net;
using System.Text;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.WebUi;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Hosting;

/// <summary>Checks every setting at start-up; each failure names the setting and its environment variable.</summary>
internal sealed class RouterOptionsValidator : IValidateOptions<RouterOptions>
{
    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        var errors = new List<string>();

        if (!IsListenHost(options.Host))
        {
            errors.Add($"{Setting(nameof(options.Host))} must be an IP address, 'localhost' or '*', got '{options.Host}'.");
        }

        Range(errors, nameof(options.Port), options.Port, 1, 65535);
        Range(errors, nameof(options.PendingLimit), options.PendingLimit, 1, 1_000_000);
        Range(errors, nameof(options.HistoryLimit), options.HistoryLimit, 1, 10_000_000);
        Range(errors, nameof(options.MaxQueuePerWorker), options.MaxQueuePerWorker, 0, 1000);
        Range(errors, nameof(options.MaxAttempts), options.MaxAttempts, 1, 100);
        if (options.MaxRequestBodyBytes < 1024)
        {
            errors.Add($"{Setting(nameof(options.MaxRequestBodyBytes))} must be at least 1024 bytes, got {options.MaxRequestBodyBytes.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (options.HistoryMaxAge < TimeSpan.Zero)
        {
            errors.Add($"{Setting(nameof(options.HistoryMaxAge))} must not be negative.");
        }

        Positive(errors, nameof(options.HistoryPruneInterval), options.HistoryPruneInterval);
        Positive(errors, nameof(options.ServersFilePollInterval), options.ServersFilePollInterval);
        Positive(errors, nameof(options.RunTimeout), options.RunTimeout);
        Positive(errors, nameof(options.NoProgressTimeout), options.NoProgressTimeout);
        Positive(errors, nameof(options.InterruptTimeout), options.InterruptTimeout);
        Positive(errors, nameof(options.ProbeInterval), options.ProbeInterval);
        Positive(errors, nameof(options.WorkerLostGrace), options.WorkerLostGrace);
        Positive(errors, nameof(options.ProbeTimeout), options.ProbeTimeout);
        Positive(errors, nameof(options.WorkerRequestTimeout), options.WorkerRequestTimeout);
        Positive(errors, nameof(options.PassiveHealthReactivation), options.PassiveHealthReactivation);
        Positive(errors, nameof(options.AbandonedPromptWindow), options.AbandonedPromptWindow);
        Positive(errors, nameof(options.AbandonedPromptRetryInterval), options.AbandonedPromptRetryInterval);
        Positive(errors, nameof(options.WebUiSessionLifetime), options.WebUiSessionLifetime);

        if (!WebUiProxyWritesNames.All.Contains(options.WebUiProxyWrites, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{Setting(nameof(options.WebUiProxyWrites))} '{options.WebUiProxyWrites}' is unknown; use one of {string.Join(", ", WebUiProxyWritesNames.All)}.");
        }

        if (options.WebUiProxyMaxBodyBytes < 1)
        {
            errors.Add($"{Setting(nameof(options.WebUiProxyMaxBodyBytes))} must be at least 1 byte, got {options.WebUiProxyMaxBodyBytes.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (FrontEndAccess.InvalidPrefix(options.WebUiAdminPaths) is { } prefix)
        {
            errors.Add($"{Setting(nameof(options.WebUiAdminPaths))}: '{prefix}' is not a path prefix (it must start with '/', with no empty, '.' or '..' segment).");
        }

        if (!PlacementPolicyNames.All.Contains(options.PlacementPolicy, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{Setting(nameof(options.PlacementPolicy))} '{options.PlacementPolicy}' is unknown; use one of {string.Join(", ", PlacementPolicyNames.All)}.");
        }

        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            errors.Add($"{Setting(nameof(options.Username))} and {Setting(nameof(options.Password))} must be set together (or both empty to turn Basic auth off).");
        }

        if (string.IsNullOrEmpty(options.Username) && options.ApiKeys.Count == 0 && string.IsNullOrEmpty(options.ApiKeysFile))
        {
            errors.Add($"No credentials: set {Setting(nameof(options.Username))}/{Setting(nameof(options.Password))}, {Setting(nameof(options.ApiKeys))} or {Setting(nameof(options.ApiKeysFile))}.");
        }

        if (!string.IsNullOrEmpty(options.ApiKeysFile) && !File.Exists(options.ApiKeysFile))
        {
            errors.Add($"{Setting(nameof(options.ApiKeysFile))} '{options.ApiKeysFile}' does not exist.");
        }

        try
        {
            NodeAddressParser.ParseEntries(options.Nodes);
        }
        catch (NodeAddressException ex)
        {
            errors.Add($"{Setting(nameof(options.Nodes))}: {ex.Message}");
        }

        if (!string.IsNullOrEmpty(options.ServersFile))
        {
            var path = NodeAddressParser.ToFilePath(options.ServersFile);
            if (!File.Exists(path))
            {
                errors.Add($"{Setting(nameof(options.ServersFile))} '{options.ServersFile}' does not exist.");
            }
            else
            {
                try
                {
                    NodeAddressParser.ParseFile(path, File.ReadAllText(path));
                }
                catch (NodeAddressException ex)
                {
                    errors.Add($"{Setting(nameof(options.ServersFile))}: {ex.Message}");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>"Router:PendingLimit (COMFY_ROUTER__PENDING_LIMIT)".</summary>
    internal static string Setting(string property)
    {
        var snake = new StringBuilder();
        foreach (var c in property)
        {
            if (char.IsUpper(c) && snake.Length > 0)
            {
                snake.Append('_');
            }

            snake.Append(char.ToUpperInvariant(c));
        }

        return $"{RouterOptions.SectionName}:{property} ({RouterEnvironmentVariablesSource.Prefix}{snake})";
    }

    private static bool IsListenHost(string host) =>
        host is "*" or "+" || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(host, out _);

    private static void Range(List<string> errors, string property, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{Setting(property)} must be between {min} and {max}, got {value}.");
        }
    }

    private static void Positive(List<string> errors, string property, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{Setting(property)} must be a positive duration (e.g. 00:00:30), got {value}.");
        }
    }
}
