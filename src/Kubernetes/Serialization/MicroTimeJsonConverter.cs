using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Serialization;

/// <summary><c>metav1.MicroTime</c>: RFC 3339 in UTC with exactly six fractional digits.</summary>
public sealed class MicroTimeJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeJsonConverter.ReadTimestamp(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
}
