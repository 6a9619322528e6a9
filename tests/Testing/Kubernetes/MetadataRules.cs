using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>ObjectMeta validation of docs/kubernetes-api.md §2 (names, labels, annotations, finalizers, ownerReferences).</summary>
internal static partial class MetadataRules
{
    public const string SubdomainPattern = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
    public const string LabelPattern = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string QualifiedNamePattern = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

    /// <summary>ObjectMeta's JSON keys; CR metadata is pruned down to these.</summary>
    public static readonly IReadOnlySet<string> ObjectMetaKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
    };

    public static bool IsSubdomain(string s) => s.Length <= 253 && SubdomainRegex().IsMatch(s);

    public static bool IsLabel(string s) => s.Length <= 63 && LabelRegex().IsMatch(s);

    public static bool IsLabelValue(string s) => s.Length == 0 || (s.Length <= 63 && QualifiedNameRegex().IsMatch(s));

    public static bool IsQualifiedName(string s)
    {
        var slash = s.IndexOf('/', StringComparison.Ordinal);
        var name = slash >= 0 ? s[(slash + 1)..] : s;
        if (slash >= 0 && (slash == 0 || !IsSubdomain(s[..slash])))
        {
            return false;
        }

        return name.Length is > 0 and <= 63 && QualifiedNameRegex().IsMatch(name);
    }

    public static FieldError? ValidateName(ResourceType type, string name, string field = "metadata.name")
    {
        if (type.NameUnchecked)
        {
            return null;
        }

        if (type.NameIsLabel)
        {
            return IsLabel(name)
                ? null
                : StatusErrors.InvalidValue(field, name,
                    $"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{LabelPattern}')");
        }

        return IsSubdomain(name)
            ? null
            : StatusErrors.InvalidValue(field, name,
                $"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{SubdomainPattern}')");
    }

    public static List<FieldError> Validate(ResourceType type, JsonObject obj)
    {
        var errors = new List<FieldError>();
        if (obj["metadata"] is not JsonObject meta)
        {
            errors.Add(StatusErrors.Required("metadata"));
            return errors;
        }

        var name = Str(meta["name"]);
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(StatusErrors.Required("metadata.name", "name or generateName is required"));
        }
        else if (ValidateName(type, name) is { } nameError)
        {
            errors.Add(nameError);
        }

        ValidateStringMap(meta["labels"], "metadata.labels", labels: true, errors);
        ValidateStringMap(meta["annotations"], "metadata.annotations", labels: false, errors);

        if (meta["finalizers"] is JsonNode fin)
        {
            if (fin is not JsonArray finalizers)
            {
                errors.Add(StatusErrors.TypeInvalid("metadata.finalizers", fin, "must be an array of strings"));
            }
            else
            {
                var list = finalizers.Select(Str).ToList();
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is not { } f || !IsQualifiedName(f))
                    {
                        errors.Add(StatusErrors.InvalidValue($"metadata.finalizers[{i}]", finalizers[i], "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
                    }
                }

                if (list.Contains("orphan") && list.Contains("foregroundDeletion"))
                {
                    errors.Add(StatusErrors.InvalidValue("metadata.finalizers", "foregroundDeletion",
                        "finalizer foregroundDeletion and orphan cannot be both set"));
                }
            }
        }

        if (meta["ownerReferences"] is JsonNode refsNode)
        {
            if (refsNode is not JsonArray refs)
            {
                errors.Add(StatusErrors.TypeInvalid("metadata.ownerReferences", refsNode, "must be an array"));
            }
            else
            {
                var controllers = 0;
                for (var i = 0; i < refs.Count; i++)
                {
                    var r = refs[i] as JsonObject;
                    foreach (var key in new[] { "apiVersion", "kind", "name", "uid" })
                    {
                        if (string.IsNullOrEmpty(Str(r?[key])))
                        {
                            errors.Add(key == "name" || key == "uid"
                                ? StatusErrors.InvalidValue($"metadata.ownerReferences[{i}].{key}", "", $"{key} must not be empty")
                                : StatusErrors.InvalidValue($"metadata.ownerReferences[{i}].{key}", "", "version must not be empty"));
                        }
                    }

                    if (r?["controller"] is JsonValue c && c.GetValueKind() == JsonValueKind.True)
                    {
                        controllers++;
                    }
                }

                if (controllers > 1)
                {
                    errors.Add(StatusErrors.InvalidValue("metadata.ownerReferences", refs.DeepClone(),
                        "Only one reference can have Controller set to true. Found \"true\" in references for " +
                        string.Join(" and ", refs.OfType<JsonObject>().Where(r => r["controller"]?.GetValueKind() == JsonValueKind.True)
                            .Select(r => $"{Str(r["kind"])}/{Str(r["name"])}"))));
                }
            }
        }

        return errors;
    }

    public static List<string> Finalizers(JsonObject obj) =>
        (obj["metadata"]?["finalizers"] as JsonArray)?.Select(Str).OfType<string>().ToList() ?? [];

    public static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void ValidateStringMap(JsonNode? node, string field, bool labels, List<FieldError> errors)
    {
        if (node is null)
        {
            return;
        }

        if (node is not JsonObject map)
        {
            errors.Add(StatusErrors.TypeInvalid(field, node, "must be a map of strings"));
            return;
        }

        var total = 0;
        foreach (var (key, value) in map)
        {
            if (!IsQualifiedName(key))
            {
                errors.Add(StatusErrors.InvalidValue(field, key,
                    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
            }

            var s = Str(value);
            if (s is null)
            {
                errors.Add(StatusErrors.TypeInvalid($"{field}.{key}", value, "must be a string"));
                continue;
            }

            total += key.Length + s.Length;
            if (labels && !IsLabelValue(s))
            {
                errors.Add(StatusErrors.InvalidValue(field, s,
                    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
            }
        }

        if (!labels && total > 256 * 1024)
        {
            errors.Add(StatusErrors.TooLong(field, 256 * 1024));
        }
    }

    [GeneratedRegex("^" + SubdomainPattern + "$")]
    private static partial Regex SubdomainRegex();

    [GeneratedRegex("^" + LabelPattern + "$")]
    private static partial Regex LabelRegex();

    [GeneratedRegex("^" + QualifiedNamePattern + "$")]
    private static partial Regex QualifiedNameRegex();
}
