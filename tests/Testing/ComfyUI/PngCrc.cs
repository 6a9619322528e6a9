namespace ComfyOperator.Testing.ComfyUI;

/// <summary>CRC-32 (ISO-HDLC, the PNG chunk checksum).</summary>
internal static class PngCrc
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in first)
        {
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        foreach (var b in second)
        {
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return c ^ 0xFFFFFFFFu;
    }
}
