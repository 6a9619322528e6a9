namespace ComfyOperator.Testing.ComfyUI;

/// <summary>Deterministic "generated" pictures: smooth gradients whose colours and slopes come from a hash.</summary>
internal static class ImageSynth
{
    public static SimImage Render(ulong hash, int width, int height)
    {
        var pixels = new byte[width * height * 3];
        Span<int> baseColor = [(int)(hash & 0xFF), (int)((hash >> 8) & 0xFF), (int)((hash >> 16) & 0xFF)];
        Span<int> sx = [(int)((hash >> 24) & 7) + 1, (int)((hash >> 27) & 7) + 1, (int)((hash >> 30) & 7) + 1];
        Span<int> sy = [(int)((hash >> 33) & 7) + 1, (int)((hash >> 36) & 7) + 1, (int)((hash >> 39) & 7) + 1];
        var i = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    pixels[i++] = (byte)(baseColor[c] + (((x * sx[c]) + (y * sy[c])) >> 2));
                }
            }
        }

        return new SimImage(width, height, 3, pixels);
    }

    public static SimImage Invert(SimImage image)
    {
        var pixels = new byte[image.Pixels.Length];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(255 - image.Pixels[i]);
        }

        return image with { Pixels = pixels };
    }

    public static SimImage Scale(SimImage image, int width, int height, string method, bool centerCrop)
    {
        // ImageScale: 0 for one side keeps the aspect ratio; both 0 keeps the size.
        if (width == 0 && height == 0)
        {
            return image;
        }

        if (width == 0)
        {
            width = Math.Max(1, (int)Math.Round(image.Width * (height / (double)image.Height)));
        }
        else if (height == 0)
        {
            height = Math.Max(1, (int)Math.Round(image.Height * (width / (double)image.Width)));
        }

        double x0 = 0, y0 = 0, sw = image.Width, sh = image.Height;
        if (centerCrop)
        {
            var oldAspect = image.Width / (double)image.Height;
            var newAspect = width / (double)height;
            if (oldAspect > newAspect)
            {
                sw = image.Height * newAspect;
                x0 = (image.Width - sw) / 2;
            }
            else if (oldAspect < newAspect)
            {
                sh = image.Width / newAspect;
                y0 = (image.Height - sh) / 2;
            }
        }

        var ch = image.Channels;
        var pixels = new byte[width * height * ch];
        var nearest = method == "nearest-exact";
        for (var y = 0; y < height; y++)
        {
            var fy = y0 + ((y + 0.5) * sh / height) - 0.5;
            for (var x = 0; x < width; x++)
            {
                var fx = x0 + ((x + 0.5) * sw / width) - 0.5;
                for (var c = 0; c < ch; c++)
                {
                    double v;
                    if (nearest)
                    {
                        v = image.Sample(Clamp((int)Math.Round(fx), image.Width), Clamp((int)Math.Round(fy), image.Height), c);
                    }
                    else
                    {
                        var ix = (int)Math.Floor(fx);
                        var iy = (int)Math.Floor(fy);
                        var ax = fx - ix;
                        var ay = fy - iy;
                        var a = image.Sample(Clamp(ix, image.Width), Clamp(iy, image.Height), c);
                        var b = image.Sample(Clamp(ix + 1, image.Width), Clamp(iy, image.Height), c);
                        var d = image.Sample(Clamp(ix, image.Width), Clamp(iy + 1, image.Height), c);
                        var e = image.Sample(Clamp(ix + 1, image.Width), Clamp(iy + 1, image.Height), c);
                        v = (((a * (1 - ax)) + (b * ax)) * (1 - ay)) + (((d * (1 - ax)) + (e * ax)) * ay);
                    }

                    pixels[(((y * width) + x) * ch) + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
            }
        }

        return new SimImage(width, height, ch, pixels);
    }

    public static SimImage Solid(int width, int height, int color)
    {
        var pixels = new byte[width * height * 3];
        for (var i = 0; i < width * height; i++)
        {
            pixels[i * 3] = (byte)((color >> 16) & 0xFF);
            pixels[(i * 3) + 1] = (byte)((color >> 8) & 0xFF);
            pixels[(i * 3) + 2] = (byte)(color & 0xFF);
        }

        return new SimImage(width, height, 3, pixels);
    }

    private static int Clamp(int v, int size) => Math.Clamp(v, 0, size - 1);
}
