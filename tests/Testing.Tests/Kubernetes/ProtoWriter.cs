using System.Text;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>Writes protocol buffers the way client-go does for the tests of the emulator's protobuf bodies.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    /// <summary>A Kubernetes protobuf body: "k8s\0" then runtime.Unknown{typeMeta{apiVersion, kind}, raw}.</summary>
    public static byte[] Envelope(string apiVersion, string kind, ProtoWriter raw)
    {
        var envelope = new ProtoWriter()
            .Message(1, new ProtoWriter().String(1, apiVersion).String(2, kind))
            .Bytes(2, raw.ToArray());
        return [0x6b, 0x38, 0x73, 0x00, .. envelope.ToArray()];
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    /// <summary>A map&lt;string, string&gt; entry.</summary>
    public ProtoWriter Entry(int field, string key, string value) => Message(field, new ProtoWriter().String(1, key).String(2, value));

    /// <summary>A map&lt;string, bytes&gt; entry.</summary>
    public ProtoWriter Entry(int field, string key, byte[] value) => Message(field, new ProtoWriter().String(1, key).Bytes(2, value));

    public ProtoWriter Varint(int field, ulong value)
    {
        WriteVarint((ulong)field << 3);
        WriteVarint(value);
        return this;
    }

    public ProtoWriter Bytes(int field, byte[] value)
    {
        WriteVarint(((ulong)field << 3) | 2);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    public byte[] ToArray() => _buffer.ToArray();

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _buffer.WriteByte((byte)value);
    }
}
