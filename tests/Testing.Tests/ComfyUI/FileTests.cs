using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>SaveImage/PreviewImage files, /view rules (4.1), uploads (4.2, 4.3) and LoadImage.</summary>
public sealed class FileTests
{
    private static async Task<(ComfyUiSimulator, HttpClient)> StartAsync(ComfyUiSimulatorOptions? options = null)
    {
        var sim = await ComfyUiSimulator.StartAsync(options);
        return (sim, new HttpClient { BaseAddress = sim.BaseAddress });
    }

    private static async Task<JsonArray> RunAsync(HttpClient http, JsonObject prompt, string outputNode = "9")
    {
        var id = await http.QueueAsync(prompt, null);
        var entry = await http.WaitForHistoryAsync(id);
        Assert.True(entry["status"]!["completed"]!.GetValue<bool>(), entry.Canon());
        return entry["outputs"]![outputNode]!["images"]!.AsArray();
    }

    /// <summary>Independent PNG check: signature, chunk CRCs, IHDR, and the inflated IDAT size; returns (width, height, tEXt keys, raw scanlines).</summary>
    private static (int Width, int Height, List<string> Text, byte[] Raw) CheckPng(byte[] png)
    {
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, png[..8]);
        var pos = 8;
        int width = 0, height = 0, channels = 0;
        var text = new List<string>();
        using var idat = new MemoryStream();
        var types = new List<string>();
        while (pos < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            types.Add(type);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(Crc(png.AsSpan(pos + 4, length + 4)), crc);
            var data = png.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]);
                channels = data[9] == 6 ? 4 : 3;
            }
            else if (type == "tEXt")
            {
                text.Add(Encoding.Latin1.GetString(data[..data.IndexOf((byte)0)]));
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            pos += 12 + length;
        }

        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        Assert.Equal(height * ((width * channels) + 1), raw.Length);
        return (width, height, text, raw.ToArray());
    }

    private static uint Crc(ReadOnlySpan<byte> bytes)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            c ^= b;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
        }

        return ~c;
    }

    [Fact]
    public async Task SaveImage_WritesRealPngWithMetadata_NamedLikeComfyUi()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var extra = new JsonObject { ["extra_data"] = new JsonObject { ["extra_pnginfo"] = new JsonObject { ["workflow"] = new JsonObject { ["nodes"] = new JsonArray() } } } };
        var id = await http.QueueAsync(Graphs.Sd15(prefix: "job123/img_%width%x%height%", size: 96), null, extra);
        var images = (await http.WaitForHistoryAsync(id))["outputs"]!["9"]!["images"]!.AsArray();
        Assert.Equal("""[{"filename":"img_96x96_00001_.png","subfolder":"job123","type":"output"}]""", images.Canon());
        var png = await File.ReadAllBytesAsync(Path.Combine(sim.OutputDirectory, "job123", "img_96x96_00001_.png"));
        var (w, h, text, _) = CheckPng(png);
        Assert.Equal((96, 96), (w, h));
        Assert.Equal(["prompt", "workflow"], text);

        var again = await RunAsync(http, Graphs.Sd15(seed: 5, prefix: "job123/img_%width%x%height%", size: 96));
        Assert.Equal("img_96x96_00002_.png", again[0]!["filename"]!.GetValue<string>());
    }

    [Fact]
    public async Task SaveImage_DisableMetadata_NoTextChunks()
    {
        var (sim, http) = await StartAsync(new ComfyUiSimulatorOptions { DisableMetadata = true });
        await using var _ = sim;
        using var __ = http;
        var images = await RunAsync(http, Graphs.Sd15());
        var (_, _, text, _) = CheckPng(await http.GetByteArrayAsync($"view?filename={images[0]!["filename"]}&type=output"));
        Assert.Empty(text);
    }

    [Fact]
    public async Task Pixels_SameSeedIdentical_DifferentSeedOrTextDiffer()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        async Task<byte[]> PixelsAsync(JsonObject prompt)
        {
            var image = (await RunAsync(http, prompt))[0]!;
            var png = await http.GetByteArrayAsync($"view?filename={image["filename"]}&subfolder={image["subfolder"]}&type=output");
            return CheckPng(png).Raw;
        }

        var a = await PixelsAsync(Graphs.Sd15(seed: 1, prefix: "a"));
        var sameSeedOtherPrefix = await PixelsAsync(Graphs.Sd15(seed: 1, prefix: "b"));
        var otherSeed = await PixelsAsync(Graphs.Sd15(seed: 2, prefix: "c"));
        var otherText = await PixelsAsync(Graphs.Sd15(seed: 1, text: "a castle", prefix: "d"));
        Assert.Equal(a, sameSeedOtherPrefix);
        Assert.NotEqual(a, otherSeed);
        Assert.NotEqual(a, otherText);
        Assert.NotEqual(otherSeed, otherText);
    }

    [Fact]
    public async Task View_Rules_EscapeForbiddenMissing404BadType400()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var image = (await RunAsync(http, Graphs.Sd15()))[0]!;
        var name = image["filename"]!.GetValue<string>();
        using var ok = await http.GetAsync($"view?filename={name}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("image/png", ok.Content.Headers.ContentType!.MediaType);
        Assert.Contains(name, ok.Content.Headers.GetValues("Content-Disposition").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"view?filename={Uri.EscapeDataString(name + " [output]")}&type=input")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync($"view?filename={name}&subfolder=../..")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"view?filename=../{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"view?filename=%2Fetc%2Fpasswd")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"view?filename={name}&type=models")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("view?filename=missing.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("view")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"view?filename={name}&type=input")).StatusCode);
        var rgb = CheckPng(await http.GetByteArrayAsync($"view?filename={name}&channel=rgb"));
        Assert.Equal(64, rgb.Width);
    }

    [Fact]
    public async Task PreviewImage_WritesTempFileWithTempNaming()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var prompt = Graphs.Sd15();
        prompt["9"] = JsonNode.Parse("""{"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}""");
        var image = (await RunAsync(http, prompt))[0]!;
        Assert.Matches("^ComfyUI_temp_[a-z]{5}_00001_\\.png$", image["filename"]!.GetValue<string>());
        Assert.Equal("temp", image["type"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"view?filename={image["filename"]}&type=temp")).StatusCode);
    }

    [Fact]
    public async Task UploadThenLoadImage_InvertAndScale_TransformsPixels()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var source = ImageSynth.Render(12345, 40, 20);
        var upload = await UploadAsync(http, "upload/image", PngFile.Encode(source), "photo.png");
        Assert.Equal("""{"name":"photo.png","subfolder":"","type":"input"}""", upload);

        var prompt = JsonNode.Parse("""
            {"1": {"class_type": "LoadImage", "inputs": {"image": "photo.png"}},
             "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
             "3": {"class_type": "ImageScale", "inputs": {"image": ["2", 0], "upscale_method": "nearest-exact", "width": 80, "height": 40, "crop": "disabled"}},
             "4": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "inverted"}},
             "5": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "scaled"}}}
            """)!.AsObject();
        var id = await http.QueueAsync(prompt, null);
        var entry = await http.WaitForHistoryAsync(id);
        var inverted = PngFile.TryDecode(await http.GetByteArrayAsync($"view?filename={entry["outputs"]!["4"]!["images"]![0]!["filename"]}"))!;
        Assert.Equal((40, 20), (inverted.Width, inverted.Height));
        Assert.Equal(255 - source.Sample(7, 3, 1), inverted.Sample(7, 3, 1));
        var scaled = PngFile.TryDecode(await http.GetByteArrayAsync($"view?filename={entry["outputs"]!["5"]!["images"]![0]!["filename"]}"))!;
        Assert.Equal((80, 40), (scaled.Width, scaled.Height));
        Assert.Equal(inverted.Sample(10, 5, 0), scaled.Sample(20, 10, 0));
        var info = await http.GetJsonAsync("object_info/LoadImage");
        Assert.Contains("photo.png", info["LoadImage"]!["input"]!["required"]!["image"]![0]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Upload_SameContentReused_DifferentContentRenamed_OverwriteReplaces()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var a = PngFile.Encode(ImageSynth.Render(1, 8, 8));
        var b = PngFile.Encode(ImageSynth.Render(2, 8, 8));
        Assert.Contains("\"name\":\"x.png\"", await UploadAsync(http, "upload/image", a, "x.png"), StringComparison.Ordinal);
        Assert.Contains("\"name\":\"x.png\"", await UploadAsync(http, "upload/image", a, "x.png"), StringComparison.Ordinal);
        Assert.Contains("\"name\":\"x (1).png\"", await UploadAsync(http, "upload/image", b, "x.png"), StringComparison.Ordinal);
        Assert.Contains("\"name\":\"x.png\"", await UploadAsync(http, "upload/image", b, "x.png", ("overwrite", "true")), StringComparison.Ordinal);
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(sim.InputDirectory, "x.png")));
        Assert.Equal("""{"name":"y.png","subfolder":"sub/dir","type":"temp"}""", await UploadAsync(http, "upload/image", a, "y.png", ("subfolder", "sub/dir"), ("type", "temp")));
        Assert.True(File.Exists(Path.Combine(sim.TempDirectory, "sub", "dir", "y.png")));
        var (status, _) = await UploadStatusAsync(http, a, "z.png", ("subfolder", "../../etc"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var (bogus, _) = await UploadStatusAsync(http, a, "z.png", ("type", "models"));
        Assert.Equal(HttpStatusCode.InternalServerError, bogus);
    }

    [Fact]
    public async Task UploadMask_CopiesAlphaIntoOriginal()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await UploadAsync(http, "upload/image", PngFile.Encode(ImageSynth.Render(3, 4, 4)), "base.png");
        var maskPixels = new byte[4 * 4 * 4];
        for (var i = 0; i < 16; i++)
        {
            maskPixels[(i * 4) + 3] = (byte)(i * 10);
        }

        var result = await UploadAsync(http, "upload/mask", PngFile.Encode(new SimImage(4, 4, 4, maskPixels)), "masked.png",
            ("original_ref", """{"filename": "base.png", "subfolder": "", "type": "input"}"""));
        Assert.Equal("""{"name":"masked.png","subfolder":"","type":"input"}""", result);
        var saved = PngFile.TryDecode(await File.ReadAllBytesAsync(Path.Combine(sim.InputDirectory, "masked.png")))!;
        Assert.Equal(4, saved.Channels);
        Assert.Equal(50, saved.Sample(1, 1, 3));
        Assert.Equal(ImageSynth.Render(3, 4, 4).Sample(1, 1, 0), saved.Sample(1, 1, 0));
    }

    private static async Task<string> UploadAsync(HttpClient http, string path, byte[] bytes, string name, params (string Key, string Value)[] fields)
    {
        using var form = Form(bytes, name, fields);
        using var response = await http.PostAsync(path, form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return body;
    }

    private static async Task<(HttpStatusCode, string)> UploadStatusAsync(HttpClient http, byte[] bytes, string name, params (string Key, string Value)[] fields)
    {
        using var form = Form(bytes, name, fields);
        using var response = await http.PostAsync("upload/image", form);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static MultipartFormDataContent Form(byte[] bytes, string name, (string Key, string Value)[] fields)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "image", name } };
        foreach (var (key, value) in fields)
        {
            form.Add(new StringContent(value), key);
        }

        return form;
    }
}
