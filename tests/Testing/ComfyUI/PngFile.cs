using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>A small PNG writer/reader (8-bit, non-interlaced), enough for what ComfyUI nodes save and load.</summary>
internal static class PngFile
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static byte[] Encode(SimImage image, IReadOnlyList<KeyValuePair<string, string>>? text = null, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), image.Height);
        ihdr[8] = 8;
        ihdr[9] = image.Channels == 4 ? (byte)6 : (byte)2;
        WriteChunk(output, "IHDR", ihdr);
        foreach (var (key, value) in text ?? [])
        {
            // tEXt is Latin-1; ComfyUI (PIL) writes JSON that way too.
            WriteChunk(output, "tEXt", [.. Encoding.Latin1.GetBytes(key), 0, .. Encoding.Latin1.GetBytes(value)]);
        }

        using (var idat = new MemoryStream())
        {
            using (var z = new ZLibStream(idat, level, leaveOpen: true))
            {
                var stride = image.Width * image.Channels;
                var row = new byte[stride + 1];
                for (var y = 0; y < image.Height; y++)
                {
                    // Filter type 1 (Sub) suits the smooth gradients the simulator draws.
                    row[0] = 1;
                    var offset = y * stride;
                    for (var i = 0; i < stride; i++)
                    {
                        var left = i >= image.Channels ? image.Pixels[offset + i - image.Channels] : (byte)0;
                        row[i + 1] = (byte)(image.Pixels[offset + i] - left);
                    }

                    z.Write(row);
                }
            }

            WriteChunk(output, "IDAT", idat.ToArray());
        }

        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        output.Write(header);
        output.Write(data);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, PngCrc.Compute(header[4..], data));
        output.Write(crcBytes);
    }

    /// <summary>True when the bytes start with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    /// <summary>Decodes to RGB or RGBA; returns null for anything it cannot read (PIL would raise).</summary>
    public static SimImage? TryDecode(byte[] data) => TryDecode(data, out _);

    public static SimImage? TryDecode(byte[] data, out List<KeyValuePair<string, string>> text)
    {
        text = [];
        try
        {
            return Decode(data, text);
        }
        catch (InvalidDataException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static SimImage? Decode(byte[] data, List<KeyValuePair<string, string>> text)
    {
        if (!IsPng(data))
        {
            return null;
        }

        int width = 0, height = 0, colorType = 0, bitDepth = 0, interlace = 0;
        byte[]? palette = null;
        byte[]? paletteAlpha = null;
        using var idat = new MemoryStream();
        var pos = 8;
        while (pos + 12 <= data.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
            var type = Encoding.ASCII.GetString(data, pos + 4, 4);
            var body = data.AsSpan(pos + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    bitDepth = body[8];
                    colorType = body[9];
                    interlace = body[12];
                    break;
                case "PLTE":
                    palette = body.ToArray();
                    break;
                case "tRNS":
                    paletteAlpha = body.ToArray();
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "tEXt":
                    var zero = body.IndexOf((byte)0);
                    if (zero > 0)
                    {
                        text.Add(new(Encoding.Latin1.GetString(body[..zero]), Encoding.Latin1.GetString(body[(zero + 1)..])));
                    }

                    break;
                default:
                    break;
            }

            pos += 12 + length;
            if (type == "IEND")
            {
                break;
            }
        }

        if (bitDepth != 8 || interlace != 0 || width <= 0 || height <= 0)
        {
            return null;
        }

        var channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (channels == 0)
        {
            return null;
        }

        var stride = width * channels;
        var raw = new byte[stride * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            var prev = new byte[stride];
            var cur = new byte[stride];
            for (var y = 0; y < height; y++)
            {
                var filter = z.ReadByte();
                z.ReadExactly(cur);
                Unfilter(filter, cur, prev, channels);
                cur.CopyTo(raw, y * stride);
                (prev, cur) = (cur, prev);
            }
        }

        var hasAlpha = colorType is 4 or 6 || (colorType == 3 && paletteAlpha is not null);
        var outChannels = hasAlpha ? 4 : 3;
        var pixels = new byte[width * height * outChannels];
        for (var i = 0; i < width * height; i++)
        {
            byte r, g, b, a = 255;
            switch (colorType)
            {
                case 0: r = g = b = raw[i]; break;
                case 2: r = raw[i * 3]; g = raw[(i * 3) + 1]; b = raw[(i * 3) + 2]; break;
                case 3:
                    var idx = raw[i];
                    r = palette![idx * 3]; g = palette[(idx * 3) + 1]; b = palette[(idx * 3) + 2];
                    a = paletteAlpha is not null && idx < paletteAlpha.Length ? paletteAlpha[idx] : (byte)255;
                    break;
                case 4: r = g = b = raw[i * 2]; a = raw[(i * 2) + 1]; break;
                default: r = raw[i * 4]; g = raw[(i * 4) + 1]; b = raw[(i * 4) + 2]; a = raw[(i * 4) + 3]; break;
            }

            pixels[i * outChannels] = r;
            pixels[(i * outChannels) + 1] = g;
            pixels[(i * outChannels) + 2] = b;
            if (hasAlpha)
            {
                pixels[(i * outChannels) + 3] = a;
            }
        }

        return new SimImage(width, height, outChannels, pixels);
    }

    private static void Unfilter(int filter, byte[] cur, byte[] prev, int bpp)
    {
        for (var i = 0; i < cur.Length; i++)
        {
            int left = i >= bpp ? cur[i - bpp] : 0;
            int up = prev[i];
            int upLeft = i >= bpp ? prev[i - bpp] : 0;
            cur[i] = filter switch
            {
                0 => cur[i],
                1 => (byte)(cur[i] + left),
                2 => (byte)(cur[i] + up),
                3 => (byte)(cur[i] + ((left + up) >> 1)),
                4 => (byte)(cur[i] + Paeth(left, up, upLeft)),
                _ => throw new InvalidDataException("bad PNG filter"),
            };
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var pa = Math.Abs(p - a);
        var pb = Math.Abs(p - b);
        var pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
