using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Builds the <c>Status</c> bodies of docs/kubernetes-api.md §3.1 with the exact message templates.</summary>
internal static class StatusErrors
{
    public static JsonObject Status(int code, string reason, string message, JsonObject? details = null) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["details"] = details ?? [],
        ["code"] = code,
    };

    public static JsonObject Success(ResourceType type, string name, string? uid)
    {
        var details = Details(type, name, type.Plural);
        if (uid is not null)
        {
            details["uid"] = uid;
        }

        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }

    public static ApiException NotFound(ResourceType type, string name) =>
        new(404, Status(404, "NotFound", $"{type.QualifiedResource} \"{name}\" not found", Details(type, name, type.Plural)));

    public static ApiException NotFound(string qualifiedResource, string name) =>
        new(404, Status(404, "NotFound", $"{qualifiedResource} \"{name}\" not found", new JsonObject { ["name"] = name, ["kind"] = qualifiedResource }));

    public static ApiException RouteNotFound() =>
        new(404, Status(404, "NotFound", "the server could not find the requested resource"));

    public static ApiException AlreadyExists(ResourceType type, string name, bool beingDeleted) =>
        new(409, Status(409, "AlreadyExists",
            (beingDeleted ? "object is being deleted: " : "") + $"{type.QualifiedResource} \"{name}\" already exists",
            Details(type, name, type.Plural)));

    public static ApiException Conflict(ResourceType type, string name, string? why = null) =>
        new(409, Status(409, "Conflict",
            $"Operation cannot be fulfilled on {type.QualifiedResource} \"{name}\": " +
            (why ?? "the object has been modified; please apply your changes to the latest version and try again"),
            Details(type, name, type.Plural)));

    public static ApiException Invalid(ResourceType type, string name, IReadOnlyList<FieldError> errors)
    {
        var causes = new JsonArray();
        foreach (var e in errors)
        {
            causes.Add(new JsonObject { ["reason"] = e.Reason, ["message"] = e.Body, ["field"] = e.Field });
        }

        var details = Details(type, name, type.Kind);
        details["causes"] = causes;
        var list = errors.Count == 1 ? errors[0].ToString() : "[" + string.Join(", ", errors) + "]";
        return new ApiException(422, Status(422, "Invalid", $"{type.QualifiedKind} \"{name}\" is invalid: {list}", details));
    }

    public static ApiException Expired(long rv, long oldest) =>
        new(410, Status(410, "Expired", string.Create(CultureInfo.InvariantCulture, $"too old resource version: {rv} ({oldest})")));

    public static ApiException BadRequest(string message) => new(400, Status(400, "BadRequest", message));

    public static ApiException Forbidden(ResourceType type, string name, string why) =>
        new(403, Status(403, "Forbidden", $"{type.QualifiedResource} \"{name}\" is forbidden: {why}", Details(type, name, type.Plural)));

    public static ApiException MethodNotAllowed(string verb, ResourceType type) =>
        new(405, Status(405, "MethodNotAllowed", $"{verb} is not supported on resources of kind \"{type.QualifiedResource}\""));

    public static ApiException UnsupportedMediaType(string accepted) =>
        new(415, Status(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {accepted}"));

    public static JsonObject Details(ResourceType type, string name, string kind)
    {
        var details = new JsonObject { ["name"] = name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = kind;
        return details;
    }

    // Field error bodies (apimachinery field/errors.go).
    public static FieldError Required(string field, string? detail = null) =>
        new("FieldValueRequired", field, detail is null ? "Required value" : $"Required value: {detail}");

    public static FieldError InvalidValue(string field, JsonNode? value, string detail) =>
        new("FieldValueInvalid", field, $"Invalid value: {Render(value)}: {detail}");

    public static FieldError TypeInvalid(string field, JsonNode? value, string detail) =>
        new("FieldValueTypeInvalid", field, $"Invalid value: {Render(value)}: {detail}");

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", field, $"Unsupported value: {Render(value)}: supported values: {string.Join(", ", supported)}");

    public static FieldError TooLong(string field, long max) =>
        new("FieldValueTooLong", field, string.Create(CultureInfo.InvariantCulture, $"Too long: may not be more than {max} bytes"));

    public static FieldError TooMany(string field, long actual, long max) =>
        new("FieldValueTooMany", field, string.Create(CultureInfo.InvariantCulture, $"Too many: {actual}: must have at most {max} items"));

    public static FieldError ForbiddenField(string field, string detail) =>
        new("FieldValueForbidden", field, $"Forbidden: {detail}");

    /// <summary>Strings quoted, numbers and bools bare, anything else as JSON.</summary>
    public static string Render(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonSerializer.Serialize(v.GetValue<string>()),
        _ => value.ToJsonString(),
    };
}
