using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// An 8-bit, non-interlaced PNG (grayscale, grayscale with alpha, RGB or RGBA) as RGBA pixels, with its
/// text chunks: what ComfyUI and its nodes write, and all <c>/upload/mask</c> needs to put a mask into an
/// image's alpha channel. Other PNGs (palettes, 16-bit, interlaced) and other formats are refused with
/// <see cref="InvalidDataException"/>.
/// </summary>
internal sealed record PngImage(int Width, int Height, byte[] Rgba, IReadOnlyList<KeyValuePair<string, string>> Text)
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    })];

    /// <summary>Refuses images larger than this many pixels, so a small compressed upload cannot ask for gigabytes.</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    public static PngImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < Signature.Length || !data[..Signature.Length].SequenceEqual(Signature))
        {
            throw new InvalidDataException("not a PNG file (only PNG is supported)");
        }

        int width = 0, height = 0, colorType = -1;
        var text = new List<KeyValuePair<string, string>>();
        using var idat = new MemoryStream();
        var position = Signature.Length;
        while (position + 12 <= data.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data[position..]);
            if (length < 0 || position + 12 + length > data.Length)
            {
                throw new InvalidDataException("truncated PNG chunk");
            }

            var type = Encoding.ASCII.GetString(data.Slice(position + 4, 4));
            var body = data.Slice(position + 8, length);
            switch (type)
            {
                case "IHDR" when length >= 13:
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    colorType = body[9];
                    if (body[8] != 8 || body[12] != 0 || colorType is not (0 or 2 or 4 or 6))
                    {
                        throw new InvalidDataException("only 8-bit, non-interlaced grayscale, RGB or RGBA PNGs are supported");
                    }

                    if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
                    {
                        throw new InvalidDataException($"PNG size {width}x{height} is out of range");
                    }

                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "tEXt" when body.IndexOf((byte)0) is > 0 and var zero:
                    text.Add(new(Encoding.Latin1.GetString(body[..zero]), Encoding.Latin1.GetString(body[(zero + 1)..])));
                    break;
                case "IEND":
                    position = data.Length;
                    continue;
            }

            position += 12 + length;
        }

        if (colorType < 0)
        {
            throw new InvalidDataException("PNG without a header");
        }

        var channels = colorType switch { 0 => 1, 4 => 2, 2 => 3, _ => 4 };
        return new PngImage(width, height, ToRgba(Unfilter(idat, width, height, channels), width * height, channels), text);
    }

    /// <summary>This image with <paramref name="mask"/>'s alpha channel (the same size), as ComfyUI's <c>/upload/mask</c> composes them.</summary>
    public PngImage WithAlphaOf(PngImage mask)
    {
        if (mask.Width != Width || mask.Height != Height)
        {
            throw new InvalidDataException($"the mask is {mask.Width}x{mask.Height} but the image is {Width}x{Height}");
        }

        var rgba = (byte[])Rgba.Clone();
        for (var i = 3; i < rgba.Length; i += 4)
        {
            rgba[i] = mask.Rgba[i];
        }

        return this with { Rgba = rgba };
    }

    /// <summary>RGBA, filter type 0, the text chunks kept (ComfyUI keeps the original's, so the workflow stays embedded).</summary>
    public byte[] Encode()
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8;
        header[9] = 6;
        WriteChunk(output, "IHDR", header);
        foreach (var (key, value) in Text)
        {
            WriteChunk(output, "tEXt", [.. Encoding.Latin1.GetBytes(key), 0, .. Encoding.Latin1.GetBytes(value)]);
        }

        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                var stride = Width * 4;
                for (var y = 0; y < Height; y++)
                {
                    z.WriteByte(0);
                    z.Write(Rgba, y * stride, stride);
                }
            }

            WriteChunk(output, "IDAT", compressed.ToArray());
        }

        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static byte[] Unfilter(MemoryStream idat, int width, int height, int channels)
    {
        var stride = width * channels;
        var pixels = new byte[stride * height];
        var row = new byte[stride + 1];
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        for (var y = 0; y < height; y++)
        {
            z.ReadExactly(row);
            var current = pixels.AsSpan(y * stride, stride);
            for (var i = 0; i < stride; i++)
            {
                int left = i >= channels ? current[i - channels] : 0;
                int up = y > 0 ? pixels[((y - 1) * stride) + i] : 0;
                int upLeft = y > 0 && i >= channels ? pixels[((y - 1) * stride) + i - channels] : 0;
                var raw = row[i + 1];
                current[i] = row[0] switch
                {
                    0 => raw,
                    1 => (byte)(raw + left),
                    2 => (byte)(raw + up),
                    3 => (byte)(raw + ((left + up) >> 1)),
                    4 => (byte)(raw + Paeth(left, up, upLeft)),
                    _ => throw new InvalidDataException($"unknown PNG filter type {row[0]}"),
                };
            }
        }

        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static byte[] ToRgba(byte[] pixels, int count, int channels)
    {
        var rgba = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            var source = pixels.AsSpan(i * channels, channels);
            var target = rgba.AsSpan(i * 4, 4);
            (target[0], target[1], target[2], target[3]) = channels switch
            {
                1 => (source[0], source[0], source[0], (byte)255),
                2 => (source[0], source[0], source[0], source[1]),
                3 => (source[0], source[1], source[2], (byte)255),
                _ => (source[0], source[1], source[2], source[3]),
            };
        }

        return rgba;
    }

    private static void WriteChunk(Stream output, string type, byte[] body)
    {
        var typeBytes = Encoding.ASCII.GetBytes(type);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        output.Write(typeBytes);
        output.Write(body);
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes.Concat(body))
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        BinaryPrimitives.WriteUInt32BigEndian(word, crc ^ 0xFFFFFFFFu);
        output.Write(word);
    }
}
