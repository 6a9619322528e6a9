using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// Decodes Kubernetes protobuf request bodies (<c>application/vnd.kubernetes.protobuf</c>: the magic
/// <c>k8s\0</c>, then a runtime.Unknown holding apiVersion, kind and the object's bytes) into the JSON
/// the emulator stores. client-go's typed clients send built-in kinds this way with no JSON fallback;
/// Helm's release storage writes Secrets (or ConfigMaps) and deletes with DeleteOptions through them.
/// Field numbers follow k8s.io/api's generated.proto; a kind or field not listed here is refused with
/// 415, so a client needing more fails loudly instead of losing data.
/// </summary>
internal static class ProtobufBody
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static readonly byte[] s_magic = [0x6b, 0x38, 0x73, 0x00];

    private static readonly Message s_ownerReference = new("OwnerReference", new Dictionary<int, Field>
    {
        [1] = new("kind", Kind.String),
        [3] = new("name", Kind.String),
        [4] = new("uid", Kind.String),
        [5] = new("apiVersion", Kind.String),
        [6] = new("controller", Kind.Bool),
        [7] = new("blockOwnerDeletion", Kind.Bool),
    });

    private static readonly Message s_managedFields = new("ManagedFieldsEntry", new Dictionary<int, Field>
    {
        [1] = new("manager", Kind.String),
        [2] = new("operation", Kind.String),
        [3] = new("apiVersion", Kind.String),
        [4] = new("time", Kind.Time),
        [6] = new("fieldsType", Kind.String),
        [7] = new("fieldsV1", Kind.RawJson),
        [8] = new("subresource", Kind.String),
    });

    private static readonly Message s_objectMeta = new("ObjectMeta", new Dictionary<int, Field>
    {
        [1] = new("name", Kind.String),
        [2] = new("generateName", Kind.String),
        [3] = new("namespace", Kind.String),
        [4] = new("selfLink", Kind.String),
        [5] = new("uid", Kind.String),
        [6] = new("resourceVersion", Kind.String),
        [7] = new("generation", Kind.IntOmitZero),
        [8] = new("creationTimestamp", Kind.Time),
        [9] = new("deletionTimestamp", Kind.Time),
        [10] = new("deletionGracePeriodSeconds", Kind.Int),
        [11] = new("labels", Kind.StringMap),
        [12] = new("annotations", Kind.StringMap),
        [13] = new("ownerReferences", Kind.Message, s_ownerReference, Repeated: true),
        [14] = new("finalizers", Kind.String, Repeated: true),
        [17] = new("managedFields", Kind.Message, s_managedFields, Repeated: true),
    });

    private static readonly Message s_preconditions = new("Preconditions", new Dictionary<int, Field>
    {
        [1] = new("uid", Kind.String),
        [2] = new("resourceVersion", Kind.String),
    });

    /// <summary>The kinds decoded, by kind (apiVersion checked separately).</summary>
    private static readonly Dictionary<string, (string[] ApiVersions, Message Message)> s_kinds = new(StringComparer.Ordinal)
    {
        ["Secret"] = (["v1"], new Message("Secret", new Dictionary<int, Field>
        {
            [1] = new("metadata", Kind.Message, s_objectMeta),
            [2] = new("data", Kind.BytesMap),
            [3] = new("type", Kind.String),
            [4] = new("stringData", Kind.StringMap),
            [5] = new("immutable", Kind.Bool),
        })),
        ["ConfigMap"] = (["v1"], new Message("ConfigMap", new Dictionary<int, Field>
        {
            [1] = new("metadata", Kind.Message, s_objectMeta),
            [2] = new("data", Kind.StringMap),
            [3] = new("binaryData", Kind.BytesMap),
            [4] = new("immutable", Kind.Bool),
        })),
        ["DeleteOptions"] = (["v1", "meta.k8s.io/v1"], new Message("DeleteOptions", new Dictionary<int, Field>
        {
            [1] = new("gracePeriodSeconds", Kind.Int),
            [2] = new("preconditions", Kind.Message, s_preconditions),
            [3] = new("orphanDependents", Kind.Bool),
            [4] = new("propagationPolicy", Kind.String),
            [5] = new("dryRun", Kind.String, Repeated: true),
            [6] = new("ignoreStoreReadErrorWithClusterBreakingPotential", Kind.Bool),
        })),
    };

    private enum Kind
    {
        String,
        Int,
        IntOmitZero,
        Bool,
        Message,
        Time,
        RawJson,
        StringMap,
        BytesMap,
    }

    public static bool IsProtobuf(string? contentType) =>
        contentType is not null && contentType.Split(';')[0].Trim().Equals(MediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The object as JSON, with its apiVersion and kind from the envelope.</summary>
    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < s_magic.Length || !body.AsSpan(0, s_magic.Length).SequenceEqual(s_magic))
        {
            throw StatusErrors.BadRequest("the protobuf body does not start with the Kubernetes magic number");
        }

        string apiVersion = "", kind = "";
        ReadOnlyMemory<byte> raw = default;
        var envelope = new Reader(body.AsMemory(s_magic.Length));
        while (envelope.Next(out var number, out var wireType))
        {
            switch (number)
            {
                case 1:
                    var typeMeta = new Reader(envelope.Bytes(wireType));
                    while (typeMeta.Next(out var n, out var w))
                    {
                        var text = Encoding.UTF8.GetString(typeMeta.Bytes(w).Span);
                        (apiVersion, kind) = n switch { 1 => (text, kind), 2 => (apiVersion, text), _ => (apiVersion, kind) };
                    }

                    break;
                case 2:
                    raw = envelope.Bytes(wireType);
                    break;
                default:
                    envelope.Skip(wireType);
                    break;
            }
        }

        if (!s_kinds.TryGetValue(kind, out var entry) || !entry.ApiVersions.Contains(apiVersion))
        {
            throw StatusErrors.UnsupportedMediaType($"application/json, application/yaml ({MediaType} only for {string.Join(", ", s_kinds.Keys)}; not {apiVersion} {kind})");
        }

        var result = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        var fields = DecodeMessage(raw, entry.Message);
        foreach (var key in fields.Select(f => f.Key).ToList())
        {
            var value = fields[key];
            fields.Remove(key);
            result[key] = value;
        }

        return result;
    }

    private static JsonObject DecodeMessage(ReadOnlyMemory<byte> bytes, Message message)
    {
        var result = new JsonObject();
        var reader = new Reader(bytes);
        while (reader.Next(out var number, out var wireType))
        {
            if (!message.Fields.TryGetValue(number, out var field))
            {
                throw StatusErrors.UnsupportedMediaType($"application/json, application/yaml (the emulator does not decode protobuf field {number} of {message.Name})");
            }

            if (field.Kind is Kind.StringMap or Kind.BytesMap)
            {
                if (result[field.Name] is not JsonObject map)
                {
                    result[field.Name] = map = [];
                }

                var (key, entryValue) = MapEntry(reader.Bytes(wireType), field.Kind == Kind.BytesMap);
                map[key] = entryValue;
                continue;
            }

            var value = DecodeValue(reader, wireType, field);
            if (field.Repeated)
            {
                if (result[field.Name] is not JsonArray list)
                {
                    result[field.Name] = list = [];
                }

                list.Add(value);
            }
            else if (value is not null)
            {
                result[field.Name] = value;
            }
            else
            {
                result.Remove(field.Name);
            }
        }

        return result;
    }

    /// <summary>One field's value; null where Go's JSON would omit it (empty optional strings, zero times).</summary>
    private static JsonNode? DecodeValue(Reader reader, int wireType, Field field)
    {
        switch (field.Kind)
        {
            case Kind.String:
                var text = Encoding.UTF8.GetString(reader.Bytes(wireType).Span);
                return text.Length == 0 && !field.Repeated ? null : text;
            case Kind.Int:
                return (long)reader.Varint(wireType);
            case Kind.IntOmitZero:
                var number = (long)reader.Varint(wireType);
                return number == 0 ? null : number;
            case Kind.Bool:
                return reader.Varint(wireType) != 0;
            case Kind.Message:
                return DecodeMessage(reader.Bytes(wireType), field.Message!);
            case Kind.Time:
                return Time(reader.Bytes(wireType));
            case Kind.RawJson:
                var fields = new Reader(reader.Bytes(wireType));
                JsonNode? json = null;
                while (fields.Next(out var n, out var w))
                {
                    if (n != 1)
                    {
                        throw StatusErrors.UnsupportedMediaType($"application/json (the emulator does not decode protobuf field {n} of FieldsV1)");
                    }

                    json = JsonNode.Parse(fields.Bytes(w).Span);
                }

                return json;
            default:
                throw new InvalidOperationException($"{field.Kind} is decoded as a map entry");
        }
    }

    /// <summary>A map&lt;string, string|bytes&gt; entry: key 1, value 2 (bytes become base64 as in JSON).</summary>
    private static (string Key, string Value) MapEntry(ReadOnlyMemory<byte> bytes, bool binary)
    {
        var entry = new Reader(bytes);
        var (key, value) = ("", "");
        while (entry.Next(out var n, out var w))
        {
            var data = entry.Bytes(w);
            if (n == 1)
            {
                key = Encoding.UTF8.GetString(data.Span);
            }
            else if (n == 2)
            {
                value = binary ? Convert.ToBase64String(data.Span) : Encoding.UTF8.GetString(data.Span);
            }
        }

        return (key, value);
    }

    /// <summary>metav1.Time: seconds and nanos since the epoch, written as RFC 3339 in seconds; zero is null.</summary>
    private static JsonNode? Time(ReadOnlyMemory<byte> bytes)
    {
        long seconds = 0;
        var reader = new Reader(bytes);
        while (reader.Next(out var n, out var w))
        {
            var value = (long)reader.Varint(w);
            if (n == 1)
            {
                seconds = value;
            }
        }

        return seconds == 0
            ? null
            : DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    private sealed record Field(string Name, Kind Kind, Message? Message = null, bool Repeated = false);

    private sealed record Message(string Name, IReadOnlyDictionary<int, Field> Fields);

    /// <summary>Protocol buffers wire format: varints and length-delimited fields (all these messages use).</summary>
    private sealed class Reader(ReadOnlyMemory<byte> data)
    {
        private int _position;

        public bool Next(out int number, out int wireType)
        {
            if (_position >= data.Length)
            {
                (number, wireType) = (0, 0);
                return false;
            }

            var tag = ReadVarint();
            number = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            return true;
        }

        public ulong Varint(int wireType)
        {
            Expect(wireType, 0);
            return ReadVarint();
        }

        public ReadOnlyMemory<byte> Bytes(int wireType)
        {
            Expect(wireType, 2);
            var length = (int)ReadVarint();
            if (length < 0 || _position + length > data.Length)
            {
                throw StatusErrors.BadRequest("truncated protobuf body");
            }

            var slice = data.Slice(_position, length);
            _position += length;
            return slice;
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case 0:
                    ReadVarint();
                    break;
                case 1:
                    _position += 8;
                    break;
                case 2:
                    Bytes(2);
                    break;
                case 5:
                    _position += 4;
                    break;
                default:
                    throw StatusErrors.BadRequest($"unsupported protobuf wire type {wireType}");
            }
        }

        private static void Expect(int wireType, int expected)
        {
            if (wireType != expected)
            {
                throw StatusErrors.BadRequest($"protobuf wire type {wireType} where {expected} was expected");
            }
        }

        private ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= data.Length)
                {
                    throw StatusErrors.BadRequest("truncated protobuf body");
                }

                var b = data.Span[_position++];
                result |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw StatusErrors.BadRequest("malformed protobuf varint");
        }
    }
}
