using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Serialization;

/// <summary><c>metav1.Time</c>: RFC 3339 in UTC with whole seconds, e.g. <c>2025-01-02T03:04:05Z</c>.</summary>
internal sealed class TimeJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadTimestamp(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

    internal static DateTimeOffset ReadTimestamp(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A timestamp must be a string, not {reader.TokenType}.");
        }

        var text = reader.GetString();
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new JsonException($"'{text}' is not an RFC 3339 timestamp.");
        }

        return value;
    }
}
