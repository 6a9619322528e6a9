using System.Collections;
using System.Reflection;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// docs/configuration.md lists every router setting: each settable property of every options class
/// bound under <c>Router</c> (found by reflection, so new classes are covered: every <c>*Options</c>
/// class of the router must be reachable from one with a <c>SectionName</c>) and of the <c>Metrics</c>
/// options has a table row naming its key, with an environment name that maps back to that key;
/// and no row names a key nothing binds.
/// </summary>
public sealed class ConfigurationDocTests
{
    private const string MetricsSection = "Metrics";

    private static readonly Assembly Router = typeof(Program).Assembly;

    private static string DocPath => RepoPaths.Combine("docs/configuration.md");

    [Fact]
    public void ConfigurationDoc_ListsEverySettingOfTheOptionsClasses()
    {
        var settings = Settings();
        Assert.True(settings.Count >= 80, $"only {settings.Count} settings found: {string.Join(", ", settings)}");

        var problems = Problems(settings, MarkdownFile.Read(DocPath));

        Assert.True(problems.Count == 0, "docs/configuration.md and the options classes disagree:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void ConfigurationDoc_RowRemovedOrWrongEnvironmentName_Reported()
    {
        var text = File.ReadAllText(DocPath);
        var row = text.Split('\n').First(l => l.StartsWith("| `Router:Outputs:S3:PartSizeBytes`", StringComparison.Ordinal));
        var edited = text.Replace(row + "\n", "", StringComparison.Ordinal)
            .Replace("`COMFY_ROUTER__PENDING_LIMIT`", "`COMFY_ROUTER__PENDING`", StringComparison.Ordinal)
            + "\n| `Router:NoSuchSetting` | `COMFY_ROUTER__NO_SUCH_SETTING` | – | gone |\n";

        var problems = Problems(Settings(), MarkdownFile.Parse(DocPath, edited));

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Router:Outputs:S3:PartSizeBytes: no table row", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Router:PendingLimit: ", StringComparison.Ordinal) && p.Contains("COMFY_ROUTER__PENDING", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Router:NoSuchSetting: ", StringComparison.Ordinal));
    }

    private static List<string> Problems(IReadOnlyList<string> settings, MarkdownFile doc)
    {
        var rows = doc.TableRows.Where(r => r.Count >= 2 && r[0].StartsWith('`')).ToList();
        var problems = new List<string>();
        foreach (var setting in settings)
        {
            var row = rows.FirstOrDefault(r => Key(r[0]) is { } key && Covers(setting, key));
            if (row is null)
            {
                problems.Add($"{setting}: no table row whose first cell is `{setting}`");
                continue;
            }

            var environment = Code(row[1]);
            var mapped = environment is null ? null : ConfigurationKey(environment);
            if (mapped is null || !Covers(setting, mapped))
            {
                problems.Add($"{setting}: the environment name {environment ?? "(none)"} maps to {mapped ?? "nothing"}");
            }
        }

        foreach (var key in rows.Select(r => Key(r[0])).OfType<string>())
        {
            if ((key.StartsWith("Router:", StringComparison.Ordinal) || key.StartsWith(MetricsSection + ":", StringComparison.Ordinal))
                && !settings.Any(s => Covers(s, key)))
            {
                problems.Add($"{key}: listed, but no options class has this setting");
            }
        }

        return problems;
    }

    /// <summary>A row's key: its first code span, up to a placeholder (<c>Router:KeyWeights:&lt;key id&gt;</c> → <c>Router:KeyWeights</c>).</summary>
    private static string? Key(string cell)
    {
        var code = Code(cell);
        var placeholder = code?.IndexOf(":<", StringComparison.Ordinal) ?? -1;
        return placeholder >= 0 ? code![..placeholder] : code;
    }

    private static string? Code(string cell)
    {
        var start = cell.IndexOf('`', StringComparison.Ordinal);
        var end = start < 0 ? -1 : cell.IndexOf('`', start + 1);
        return end < 0 ? null : cell[(start + 1)..end];
    }

    /// <summary>A key names the setting itself, or an entry of it (a list index, a map key, the router's <c>:environment</c> list entry).</summary>
    private static bool Covers(string setting, string key) =>
        string.Equals(setting, key, StringComparison.OrdinalIgnoreCase) || key.StartsWith(setting + ":", StringComparison.OrdinalIgnoreCase);

    /// <summary>The configuration key an environment name becomes: the router's own mapping for <c>COMFY_ROUTER__</c>, .NET's (<c>__</c> → <c>:</c>) otherwise.</summary>
    private static string? ConfigurationKey(string name)
    {
        const string prefix = "COMFY_ROUTER__";
        if (name.StartsWith(prefix, StringComparison.Ordinal))
        {
            var provider = Router.GetTypes().Single(t => t.Name == "RouterEnvironmentVariablesProvider");
            var mapKey = provider.GetMethod("MapKey", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!;
            return (string?)mapKey.Invoke(null, [name[prefix.Length..]]);
        }

        return name.Contains("__", StringComparison.Ordinal) ? name.Replace("__", ":", StringComparison.Ordinal) : null;
    }

    /// <summary>
    /// Every setting key: the bindable properties of each router type with a <c>SectionName</c> under
    /// <c>Router</c>, nested options objects followed, plus the public options of the metrics exporter.
    /// </summary>
    private static List<string> Settings()
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var reached = new HashSet<Type>();
        foreach (var type in Router.GetTypes())
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string section
                && (section == "Router" || section.StartsWith("Router:", StringComparison.Ordinal)))
            {
                Collect(type, section, keys, reached);
            }
        }

        var unreached = Router.GetTypes()
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.IsClass && !t.IsAbstract && !reached.Contains(t))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(unreached.Count == 0, "router options classes not bound under a SectionName this test can see (give them a SectionName constant): " + string.Join(", ", unreached));

        var observability = AppDomain.CurrentDomain.GetAssemblies().Concat([Assembly.Load("ComfyOperator.Observability")])
            .First(a => a.GetName().Name == "ComfyOperator.Observability");
        foreach (var type in observability.GetExportedTypes().Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.Namespace?.EndsWith(".Metrics", StringComparison.Ordinal) == true))
        {
            Collect(type, MetricsSection, keys, reached);
        }

        return [.. keys];
    }

    private static void Collect(Type type, string prefix, SortedSet<string> keys, HashSet<Type> reached)
    {
        reached.Add(type);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var kind = property.PropertyType;
            var key = prefix + ":" + property.Name;
            if (typeof(Delegate).IsAssignableFrom(kind) || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            if (kind.IsClass && kind != typeof(string) && kind.Assembly == type.Assembly && !typeof(IEnumerable).IsAssignableFrom(kind))
            {
                Collect(kind, key, keys, reached);
            }
            else if (property.SetMethod is { IsPublic: true } || (kind != typeof(string) && typeof(IEnumerable).IsAssignableFrom(kind)))
            {
                keys.Add(key);
            }
        }
    }
}
