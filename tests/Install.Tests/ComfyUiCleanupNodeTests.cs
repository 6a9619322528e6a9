using System.Text.Json;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// The cleanup route our ComfyUI image ships (deploy/comfyui/custom_nodes/comfyoperator_cleanup), run
/// by the machine's python3: the package is imported the way ComfyUI imports a custom node, with small
/// stand-ins for ComfyUI's <c>server</c> and <c>folder_paths</c> and for aiohttp, and its registered
/// handler is called with requests that name files inside and outside ComfyUI's folders.
/// </summary>
public sealed class ComfyUiCleanupNodeTests : IDisposable
{
    private const string Token = "node-token-0123456789";

    private readonly string _root = Directory.CreateTempSubdirectory("cleanup-node-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Handler_NamedFiles_DeletesOnlyThoseInsideTheFoldersAndRefusesEscapes()
    {
        var input = Folder("input");
        var output = Folder("output");
        var temp = Folder("temp");
        var outside = Folder("outside");
        Write(input, "in.png");
        Write(output, "a.png");
        Write(Path.Combine(output, "run"), "b.png");
        Write(output, "kept.png");
        Write(temp, "p.png");
        Write(outside, "secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(output, "escape"), outside);
        File.CreateSymbolicLink(Path.Combine(output, "link.png"), Path.Combine(outside, "secret.txt"));
        Directory.CreateDirectory(Path.Combine(output, "dir"));

        object[] files =
        [
            new { type = "input", subfolder = "", filename = "in.png" },
            new { type = "output", subfolder = "", filename = "a.png" },
            new { type = "output", subfolder = "run", filename = "b.png" },
            new { type = "temp", subfolder = "", filename = "p.png" },
            new { type = "output", subfolder = "", filename = "gone.png" },
            new { type = "output", subfolder = "", filename = "../outside/secret.txt" },
            new { type = "output", subfolder = "..", filename = "secret.txt" },
            new { type = "output", subfolder = "../outside", filename = "secret.txt" },
            new { type = "output", subfolder = "run/../..", filename = "secret.txt" },
            new { type = "output", subfolder = outside, filename = "secret.txt" },
            new { type = "output", subfolder = "escape", filename = "secret.txt" },
            new { type = "output", subfolder = "", filename = "link.png" },
            new { type = "output", subfolder = "", filename = "dir" },
            new { type = "output", subfolder = "", filename = ".." },
            new { type = "models", subfolder = "", filename = "kept.png" },
        ];

        var answers = await RunHandlerAsync(
            new Dictionary<string, string> { ["input"] = input, ["output"] = output, ["temp"] = temp },
            [new Call(Token, Token, new { files }), new Call(Token, "wrong-token", new { files }), new Call("", Token, new { files }), new Call(Token, Token, new { nothing = 1 })]);

        var ok = answers[0];
        Assert.Equal(200, ok.GetProperty("status").GetInt32());
        var body = ok.GetProperty("body");
        Assert.Equal(["in.png", "a.png", "b.png", "p.png"], Names(body, "deleted"));
        Assert.Equal(["gone.png"], Names(body, "missing"));
        Assert.Equal(10, body.GetProperty("refused").GetArrayLength());
        Assert.Contains(body.GetProperty("refused").EnumerateArray(), r => r.GetProperty("filename").GetString() == "link.png" && r.GetProperty("reason").GetString() == "a symlink out of the folder");
        Assert.False(File.Exists(Path.Combine(output, "a.png")));
        Assert.False(File.Exists(Path.Combine(output, "run", "b.png")));
        Assert.False(File.Exists(Path.Combine(input, "in.png")));
        Assert.False(File.Exists(Path.Combine(temp, "p.png")));
        Assert.True(File.Exists(Path.Combine(outside, "secret.txt")));
        Assert.True(File.Exists(Path.Combine(output, "kept.png")));
        Assert.True(Directory.Exists(Path.Combine(output, "dir")));
        Assert.NotNull(new FileInfo(Path.Combine(output, "link.png")).LinkTarget);

        Assert.Equal(401, answers[1].GetProperty("status").GetInt32());
        Assert.Equal(403, answers[2].GetProperty("status").GetInt32());
        Assert.Equal(400, answers[3].GetProperty("status").GetInt32());
    }

    private static List<string?> Names(JsonElement body, string list) =>
        [.. body.GetProperty(list).EnumerateArray().Select(f => f.GetProperty("filename").GetString())];

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    private static void Write(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), name);
    }

    /// <summary>Imports the custom node as ComfyUI would and calls its route once per call; returns each answer's status and body.</summary>
    private async Task<List<JsonElement>> RunHandlerAsync(Dictionary<string, string> folders, IReadOnlyList<Call> calls)
    {
        var shims = Directory.CreateDirectory(Path.Combine(_root, "shims")).FullName;
        Directory.CreateDirectory(Path.Combine(shims, "aiohttp"));
        await File.WriteAllTextAsync(Path.Combine(shims, "aiohttp", "__init__.py"), "");
        await File.WriteAllTextAsync(Path.Combine(shims, "aiohttp", "web.py"), "def json_response(data, status=200):\n    return (status, data)\n");
        await File.WriteAllTextAsync(Path.Combine(shims, "folder_paths.py"), "import json, os\nFOLDERS = json.loads(os.environ['CLEANUP_TEST_FOLDERS'])\ndef get_directory_by_type(t):\n    return FOLDERS.get(t)\n");
        await File.WriteAllTextAsync(Path.Combine(shims, "server.py"), string.Join('\n',
            "class _Routes:",
            "    def __init__(self):",
            "        self.posts = {}",
            "    def post(self, path):",
            "        def register(handler):",
            "            self.posts[path] = handler",
            "            return handler",
            "        return register",
            "class _Server:",
            "    def __init__(self):",
            "        self.routes = _Routes()",
            "class PromptServer:",
            "    instance = _Server()",
            ""));
        var callsFile = Path.Combine(_root, "calls.json");
        await File.WriteAllTextAsync(callsFile, JsonSerializer.Serialize(calls.Select(c => new { token = c.Configured, header = c.Sent, body = c.Body })));
        var driver = string.Join('\n',
            "import asyncio, importlib, json, os, sys",
            "sys.path[:0] = [sys.argv[1], sys.argv[2]]",
            "node = importlib.import_module('comfyoperator_cleanup')",
            "import server",
            "handler = server.PromptServer.instance.routes.posts['/comfyoperator/cleanup']",
            "class Request:",
            "    def __init__(self, header, body):",
            "        self.headers = {'X-ComfyOperator-Token': header}",
            "        self._body = body",
            "    async def json(self):",
            "        return self._body",
            "answers = []",
            "for call in json.load(open(sys.argv[3])):",
            "    os.environ['COMFYOPERATOR_CLEANUP_TOKEN'] = call['token']",
            "    status, body = asyncio.run(handler(Request(call['header'], call['body'])))",
            "    answers.append({'status': status, 'body': body})",
            "print(json.dumps(answers))");
        var result = await ProcessRunner.RunAsync(
            "python3",
            ["-c", driver, shims, RepoPaths.Combine("deploy", "comfyui", "custom_nodes"), callsFile],
            TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["CLEANUP_TEST_FOLDERS"] = JsonSerializer.Serialize(folders), ["PYTHONDONTWRITEBYTECODE"] = "1" });
        Assert.True(result.Succeeded, result.ToString());
        return [.. JsonDocument.Parse(result.StdOut).RootElement.EnumerateArray()];
    }

    private sealed record Call(string Configured, string Sent, object Body);
}
