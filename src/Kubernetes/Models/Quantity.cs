using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>
/// A resource quantity (<c>"500m"</c>, <c>"16Gi"</c>, <c>1</c>). Kept as the text the API sent;
/// JSON numbers are accepted because hand-written manifests use them (<c>nvidia.com/gpu: 1</c>).
/// </summary>
[JsonConverter(typeof(QuantityJsonConverter))]
public readonly record struct Quantity(string Value)
{
    public static implicit operator Quantity(string value) => new(value);

    public static Quantity FromString(string value) => new(value);

    public override string ToString() => Value;

    private sealed class QuantityJsonConverter : JsonConverter<Quantity>
    {
        public override Quantity Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType switch
            {
                JsonTokenType.String => new Quantity(reader.GetString() ?? string.Empty),
                JsonTokenType.Number => new Quantity(reader.TryGetInt64(out var l)
                    ? l.ToString(CultureInfo.InvariantCulture)
                    : reader.GetDouble().ToString(CultureInfo.InvariantCulture)),
                _ => throw new JsonException($"A quantity must be a string or a number, not {reader.TokenType}."),
            };

        public override void Write(Utf8JsonWriter writer, Quantity value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Value);
    }
}
