using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>A field that holds a port number or a port name (<c>targetPort</c>, probe ports).</summary>
[JsonConverter(typeof(IntOrStringJsonConverter))]
public readonly record struct IntOrString
{
    public IntOrString(int value)
    {
        IntValue = value;
    }

    public IntOrString(string value)
    {
        StringValue = value;
    }

    public int? IntValue { get; }

    public string? StringValue { get; }

    public static implicit operator IntOrString(int value) => new(value);

    public static implicit operator IntOrString(string value) => new(value);

    public static IntOrString FromInt32(int value) => new(value);

    public static IntOrString FromString(string value) => new(value);

    public override string ToString() => StringValue ?? IntValue?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;

    private sealed class IntOrStringJsonConverter : JsonConverter<IntOrString>
    {
        public override IntOrString Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType switch
            {
                JsonTokenType.Number => new IntOrString(reader.GetInt32()),
                JsonTokenType.String => new IntOrString(reader.GetString() ?? string.Empty),
                _ => throw new JsonException($"An int-or-string must be a number or a string, not {reader.TokenType}."),
            };

        public override void Write(Utf8JsonWriter writer, IntOrString value, JsonSerializerOptions options)
        {
            if (value.IntValue is { } number)
            {
                writer.WriteNumberValue(number);
            }
            else
            {
                writer.WriteStringValue(value.StringValue);
            }
        }
    }
}
