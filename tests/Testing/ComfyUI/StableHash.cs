using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>Deterministic hashes: the simulated "model outputs" are functions of their inputs.</summary>
internal static class StableHash
{
    public static ulong Of(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return BitConverter.ToUInt64(digest);
    }

    public static ulong Combine(params ulong[] parts)
    {
        var sb = new StringBuilder();
        foreach (var p in parts)
        {
            sb.Append(p).Append('|');
        }

        return Of(sb.ToString());
    }

    public static string Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string FileHex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
