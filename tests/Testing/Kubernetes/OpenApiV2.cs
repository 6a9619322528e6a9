using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// <c>/openapi/v2</c>: a Swagger 2.0 document with no definitions, as JSON or (for client-go, which asks
/// only for it) gnostic's protobuf encoding. kubectl and Helm validate client-side against it only
/// when the OpenAPI v3 check finds no server-side fieldValidation: for <c>v1 List</c> and kinds the
/// server does not serve. The real server has no definition for an unserved kind either, so both skip
/// validation and the request fails on the missing kind ("no matches for kind"), as on a real cluster;
/// a List's built-in items are not validated field by field here.
/// </summary>
internal static class OpenApiV2
{
    /// <summary>What the real server answers to <c>Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf</c> (Go's mime parser refuses the "@").</summary>
    public const string ProtobufMediaType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    private const string Title = "Kubernetes";
    private const string Version = "v1.32.0";

    public static bool WantsProtobuf(string? accept) => accept is not null && accept.Contains("protobuf", StringComparison.OrdinalIgnoreCase);

    public static JsonObject Json() => new()
    {
        ["swagger"] = "2.0",
        ["info"] = new JsonObject { ["title"] = Title, ["version"] = Version },
        ["paths"] = new JsonObject(),
        ["definitions"] = new JsonObject(),
    };

    /// <summary>openapi_v2.Document: swagger (1), info (2: title 1, version 2), paths (8), definitions (9).</summary>
    public static byte[] Protobuf()
    {
        using var document = new MemoryStream();
        WriteString(document, 1, "2.0");
        using var info = new MemoryStream();
        WriteString(info, 1, Title);
        WriteString(info, 2, Version);
        WriteBytes(document, 2, info.ToArray());
        WriteBytes(document, 8, []);
        WriteBytes(document, 9, []);
        return document.ToArray();
    }

    private static void WriteString(Stream stream, int field, string value) => WriteBytes(stream, field, Encoding.UTF8.GetBytes(value));

    private static void WriteBytes(Stream stream, int field, byte[] value)
    {
        WriteVarint(stream, ((ulong)field << 3) | 2);
        WriteVarint(stream, (ulong)value.Length);
        stream.Write(value);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
