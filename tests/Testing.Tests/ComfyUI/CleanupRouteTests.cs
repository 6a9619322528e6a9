using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>The simulator's copy of ComfyOperator's cleanup route (deploy/comfyui/custom_nodes/comfyoperator_cleanup): the same rules as the Python node.</summary>
public sealed class CleanupRouteTests : IDisposable
{
    private const string Token = "node-token-0123456789";

    private readonly string _outside = Directory.CreateTempSubdirectory("cleanup-outside-").FullName;

    public void Dispose() => Directory.Delete(_outside, recursive: true);

    [Fact]
    public async Task Cleanup_NamedFiles_DeletesOnlyThoseInsideTheFoldersAndRefusesEscapes()
    {
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { CleanupToken = Token });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        Write(sim.InputDirectory, "in.png");
        Write(sim.OutputDirectory, "a.png");
        Write(Path.Combine(sim.OutputDirectory, "run"), "b.png");
        Write(sim.OutputDirectory, "kept.png");
        Write(sim.TempDirectory, "p.png");
        Write(_outside, "secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(sim.OutputDirectory, "escape"), _outside);
        File.CreateSymbolicLink(Path.Combine(sim.OutputDirectory, "link.png"), Path.Combine(_outside, "secret.txt"));
        object[] files =
        [
            new { type = "input", subfolder = "", filename = "in.png" },
            new { type = "output", subfolder = "", filename = "a.png" },
            new { type = "output", subfolder = "run", filename = "b.png" },
            new { type = "temp", subfolder = "", filename = "p.png" },
            new { type = "output", subfolder = "", filename = "gone.png" },
            new { type = "output", subfolder = "", filename = "../" + Path.GetFileName(_outside) + "/secret.txt" },
            new { type = "output", subfolder = "..", filename = "secret.txt" },
            new { type = "output", subfolder = "run/../..", filename = "secret.txt" },
            new { type = "output", subfolder = _outside, filename = "secret.txt" },
            new { type = "output", subfolder = "escape", filename = "secret.txt" },
            new { type = "output", subfolder = "", filename = "link.png" },
            new { type = "output", subfolder = "", filename = "run" },
            new { type = "models", subfolder = "", filename = "kept.png" },
        ];

        var answer = await PostAsync(http, Token, new { files });

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(["in.png", "a.png", "b.png", "p.png"], Names(answer.Body, "deleted"));
        Assert.Equal(["gone.png"], Names(answer.Body, "missing"));
        Assert.Equal(8, answer.Body.GetProperty("refused").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(_outside, "secret.txt")));
        Assert.True(File.Exists(Path.Combine(sim.OutputDirectory, "kept.png")));
        Assert.False(File.Exists(Path.Combine(sim.OutputDirectory, "run", "b.png")));
        Assert.Equal(4, sim.CleanedFiles);
    }

    [Fact]
    public async Task Cleanup_WithoutTheRightToken_RefusedAndNothingDeleted()
    {
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { CleanupToken = Token });
        await using var off = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { CleanupToken = "" });
        await using var without = await ComfyUiSimulator.StartAsync();
        Write(sim.OutputDirectory, "a.png");
        var body = new { files = new[] { new { type = "output", subfolder = "", filename = "a.png" } } };

        using var toSim = new HttpClient { BaseAddress = sim.BaseAddress };
        using var toOff = new HttpClient { BaseAddress = off.BaseAddress };
        using var toWithout = new HttpClient { BaseAddress = without.BaseAddress };

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(toSim, "wrong", body)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(toOff, Token, body)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(toWithout, Token, body)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(toSim, Token, new { file = "a.png" })).Status);
        Assert.True(File.Exists(Path.Combine(sim.OutputDirectory, "a.png")));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string token, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/comfyoperator/cleanup") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-ComfyOperator-Token", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonDocument.Parse(text).RootElement : default);
    }

    private static List<string?> Names(JsonElement body, string list) =>
        [.. body.GetProperty(list).EnumerateArray().Select(f => f.GetProperty("filename").GetString())];

    private static void Write(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), name);
    }
}
