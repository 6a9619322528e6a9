using System.Collections;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace ComfyOperator.Router.Configuration;

/// <summary>Maps <c>COMFY_ROUTER__*</c> variables onto configuration keys; see <see cref="RouterEnvironmentVariablesSource"/>.</summary>
internal sealed class RouterEnvironmentVariablesProvider(IDictionary? variables) : ConfigurationProvider
{
    // Settings that are lists: an environment value is one more entry (it may itself hold several,
    // separated by commas or semicolons), so it must not overwrite entry 0 from appsettings.json.
    private static readonly HashSet<string> ListSettings = new(StringComparer.OrdinalIgnoreCase) { "Nodes", "ApiKeys" };

    // Sections other than ours that are worth setting from the same prefix.
    private static readonly HashSet<string> PassThroughSections = new(StringComparer.OrdinalIgnoreCase) { "Logging", "Kestrel" };

    /// <summary>The URL-range load balancer's variable for its ComfyUI servers: one more <c>Router:Nodes</c> entry.</summary>
    public const string LoadBalancerUrls = "DEV_SERVER_COMFYUI_URL";

    /// <summary>The load balancer's servers file (<c>file:///...</c> or a path): <c>Router:ServersFile</c> unless that is set.</summary>
    public const string LoadBalancerFile = "DEV_SERVER_COMFYUI_FILE";

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var source = variables ?? Environment.GetEnvironmentVariables();

        // Aliases first, so COMFY_ROUTER__SERVERS_FILE wins over the load balancer's name for the same setting.
        if (source[LoadBalancerUrls] is string { Length: > 0 } urls)
        {
            data[RouterOptions.SectionName + ":Nodes:load-balancer"] = urls;
        }

        if (source[LoadBalancerFile] is string { Length: > 0 } file)
        {
            data[RouterOptions.SectionName + ":ServersFile"] = file;
        }

        foreach (DictionaryEntry entry in source)
        {
            if (entry.Key is not string name || !name.StartsWith(RouterEnvironmentVariablesSource.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var key = MapKey(name[RouterEnvironmentVariablesSource.Prefix.Length..]);
            if (key is not null)
            {
                data[key] = entry.Value as string;
            }
        }

        Data = data;
    }

    /// <summary>Maps the part after the prefix to a configuration key, or null when it is empty.</summary>
    internal static string? MapKey(string name)
    {
        var segments = name.Split("__", StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            return null;
        }

        if (PassThroughSections.Contains(segments[0]))
        {
            return string.Join(':', segments);
        }

        var rest = string.Equals(segments[0], RouterOptions.SectionName, StringComparison.OrdinalIgnoreCase) ? segments[1..] : segments;
        if (rest.Length == 0)
        {
            return null;
        }

        var mapped = rest.Select(ToPascalCase).ToArray();
        var key = RouterOptions.SectionName + ":" + string.Join(':', mapped);
        return mapped.Length == 1 && ListSettings.Contains(mapped[0]) ? key + ":environment" : key;
    }

    /// <summary><c>PENDING_LIMIT</c> → <c>PendingLimit</c>; names that already have lower case letters stay.</summary>
    internal static string ToPascalCase(string segment)
    {
        if (!segment.Contains('_', StringComparison.Ordinal) && segment.Any(char.IsLower))
        {
            return segment;
        }

        var builder = new StringBuilder(segment.Length);
        foreach (var word in segment.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            builder.Append(char.ToUpper(word[0], CultureInfo.InvariantCulture));
            builder.Append(word[1..].ToLower(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }
}
