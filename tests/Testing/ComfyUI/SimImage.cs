namespace ComfyOperator.Testing.ComfyUI;

/// <summary>One decoded image: 8-bit samples, row-major, <see cref="Channels"/> (3 = RGB, 4 = RGBA) per pixel.</summary>
internal sealed record SimImage(int Width, int Height, int Channels, byte[] Pixels)
{
    public byte Sample(int x, int y, int c) => Pixels[(((y * Width) + x) * Channels) + c];

    public SimImage ToRgb()
    {
        if (Channels == 3)
        {
            return this;
        }

        var rgb = new byte[Width * Height * 3];
        for (var i = 0; i < Width * Height; i++)
        {
            rgb[i * 3] = Pixels[i * Channels];
            rgb[(i * 3) + 1] = Pixels[(i * Channels) + 1];
            rgb[(i * 3) + 2] = Pixels[(i * Channels) + 2];
        }

        return new SimImage(Width, Height, 3, rgb);
    }
}
