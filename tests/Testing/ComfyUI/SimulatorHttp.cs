using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// The aiohttp routes of server.py, answered the way aiohttp answers them: JSON with
/// <c>application/json; charset=utf-8</c>, empty 200 bodies, plain-text 500 for unparsable JSON, 404/405
/// text for unknown routes and methods, 413 over the body limit, 403 from the loopback origin guard.
/// Every route also answers under <c>/api</c>.
/// </summary>
internal sealed class SimulatorHttp(SimulatorState state)
{
    private const string JsonContentType = "application/json; charset=utf-8";

    private sealed class BadJsonException : Exception;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Method == HttpMethods.Options)
        {
            context.Response.StatusCode = 200;
            return;
        }

        if (!OriginAllowed(request))
        {
            context.Response.StatusCode = 403;
            return;
        }

        var max = state.MaxBodyBytes;
        if (request.ContentLength is long length && length > max)
        {
            await Text(context, 413, $"Maximum request body size {max} exceeded, actual body size {length}").ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max;
        }

        var path = request.Path.Value ?? "/";
        if (path.StartsWith("/api/", StringComparison.Ordinal))
        {
            path = path[4..];
        }

        try
        {
            await RouteAsync(context, path).ConfigureAwait(false);
        }
        catch (BadJsonException)
        {
            await ServerError(context).ConfigureAwait(false);
        }
        catch (PythonException)
        {
            await ServerError(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413 && !context.Response.HasStarted)
        {
            await Text(context, 413, $"Maximum request body size {max} exceeded").ConfigureAwait(false);
        }
        catch (InvalidDataException) when (!context.Response.HasStarted)
        {
            // Malformed multipart body.
            await Text(context, 400, "400: Bad Request").ConfigureAwait(false);
        }
    }

    private Task RouteAsync(HttpContext context, string path)
    {
        var method = context.Request.Method;
        var get = method == HttpMethods.Get || method == HttpMethods.Head;
        var post = method == HttpMethods.Post;
        switch (path)
        {
            case "/ws":
                return get ? WebSocketAsync(context) : MethodNotAllowed(context);
            case "/prompt":
                return get ? Json(context, new JsonObject { ["exec_info"] = new JsonObject { ["queue_remaining"] = state.Queue.Remaining } })
                    : post ? PostPromptAsync(context) : MethodNotAllowed(context);
            case "/queue":
                return get ? Json(context, state.Queue.QueueJson()) : post ? PostQueueAsync(context) : MethodNotAllowed(context);
            case "/interrupt":
                return post ? PostInterruptAsync(context) : MethodNotAllowed(context);
            case "/free":
                return post ? PostFreeAsync(context) : MethodNotAllowed(context);
            case "/history":
                return get ? GetHistoryAsync(context) : post ? PostHistoryAsync(context) : MethodNotAllowed(context);
            case "/view":
                return get ? ViewAsync(context) : MethodNotAllowed(context);
            case "/upload/image":
                return post ? UploadAsync(context, mask: false) : MethodNotAllowed(context);
            case "/upload/mask":
                return post ? UploadAsync(context, mask: true) : MethodNotAllowed(context);
            case "/system_stats":
                return get ? SystemStatsAsync(context) : MethodNotAllowed(context);
            case "/features":
                return get ? Json(context, state.Features()) : MethodNotAllowed(context);
            case "/object_info":
                return get ? Json(context, ObjectInfo(null)) : MethodNotAllowed(context);
            case "/models":
                return get ? Json(context, new JsonArray([.. ModelFolders.Keys.Select(k => (JsonNode)k.Key)])) : MethodNotAllowed(context);
            case "/comfyoperator/cleanup" when state.Options.CleanupToken is { } token:
                return post ? CleanupAsync(context, token) : MethodNotAllowed(context);
            case "/experiment/models":
                return get
                    ? Json(context, new JsonArray([.. ModelFolders.ExperimentKeys.Select(k => (JsonNode)new JsonObject
                    {
                        ["name"] = k.Key,
                        ["folders"] = new JsonArray([.. k.Value.Select(f => (JsonNode)Path.Combine(state.Folders.ModelsDirectory, f))]),
                    })]))
                    : MethodNotAllowed(context);
            case SimulatorFrontEnd.ExtensionRoute:
                return StandInRouteAsync(context);
            case "/extensions":
                return get ? Json(context, new JsonArray([.. SimulatorFrontEnd.Extensions.Select(e => (JsonNode)e)])) : MethodNotAllowed(context);
            case "/embeddings":
                return get
                    ? Json(context, new JsonArray([.. state.Folders.List("embeddings").Select(e => (JsonNode)Path.ChangeExtension(e, null))]))
                    : MethodNotAllowed(context);
            default:
                break;
        }

        if (SimulatorFrontEnd.Serves(path))
        {
            return get ? SimulatorFrontEnd.ServeAsync(context, path, state.Options.Version) : MethodNotAllowed(context);
        }

        if (TryTail(path, "/history/", out var promptId))
        {
            return get ? Json(context, state.Queue.History(promptId, null, -1)) : MethodNotAllowed(context);
        }

        if (TryTail(path, "/object_info/", out var nodeClass))
        {
            return get ? Json(context, ObjectInfo(nodeClass)) : MethodNotAllowed(context);
        }

        if (TryTail(path, "/experiment/models/", out var experimentFolder))
        {
            if (!get)
            {
                return MethodNotAllowed(context);
            }

            return ModelFolders.ExperimentKeys.Any(k => k.Key == experimentFolder)
                ? Json(context, new JsonArray([.. state.Folders.Files(experimentFolder).Select(f => (JsonNode)new JsonObject
                {
                    ["name"] = f.Name,
                    ["pathIndex"] = f.PathIndex,
                    ["modified"] = new DateTimeOffset(f.File.LastWriteTimeUtc).ToUnixTimeMilliseconds() / 1000.0,
                    ["created"] = new DateTimeOffset(f.File.CreationTimeUtc).ToUnixTimeMilliseconds() / 1000.0,
                    ["size"] = f.File.Length,
                })]))
                : Text(context, 404, "404: Not Found");
        }

        if (TryTail(path, "/models/", out var folder))
        {
            if (!get)
            {
                return MethodNotAllowed(context);
            }

            return ModelFolders.IsKey(folder)
                ? Json(context, new JsonArray([.. state.Folders.List(folder).Select(f => (JsonNode)f)]))
                : Text(context, 404, "404: Not Found");
        }

        return Text(context, 404, "404: Not Found");
    }

    /// <summary>
    /// The stand-in extension's own route, as custom nodes add theirs to ComfyUI's server for their web
    /// extensions to call: any method; answers what it received (method, query, content type, body, the
    /// credentials and origin headers it saw, which server it is), with <c>?status=N</c> as that status,
    /// after <c>?answer_after_ms=N</c> when given.
    /// </summary>
    private async Task StandInRouteAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        state.CountExtensionRouteRequest();
        var status = int.TryParse(request.Query["status"], CultureInfo.InvariantCulture, out var asked) ? asked : 200;
        if (int.TryParse(request.Query["answer_after_ms"], CultureInfo.InvariantCulture, out var after))
        {
            // A custom node that acts on the request and answers late (or, past the caller's timeout, never).
            await Task.Delay(after, context.RequestAborted).ConfigureAwait(false);
        }

        context.Response.Headers.SetCookie = "standin=1; Path=/";
        await Json(context, new JsonObject
        {
            ["method"] = request.Method,
            ["path"] = request.Path.Value,
            ["query"] = request.QueryString.Value,
            ["content_type"] = request.ContentType,
            ["body"] = body,
            ["server"] = request.Host.Value,
            ["authorization"] = request.Headers.Authorization.Count > 0,
            ["cookie"] = request.Headers.Cookie.Count > 0,
            ["origin"] = request.Headers.Origin.Count > 0,
            ["extension_header"] = request.Headers["X-Standin"].ToString(),
        }, status).ConfigureAwait(false);
    }

    private static bool TryTail(string path, string prefix, out string tail)
    {
        tail = "";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        tail = Uri.UnescapeDataString(path[prefix.Length..]);
        return tail.Length > 0 && !tail.Contains('/', StringComparison.Ordinal);
    }

    /// <summary>server.py's origin-only guard: a loopback Host with a different Origin host[:port] is refused.</summary>
    private static bool OriginAllowed(HttpRequest request)
    {
        var host = request.Headers.Host.ToString();
        var origin = request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(origin))
        {
            return true;
        }

        var hostName = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        var loopback = hostName.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(hostName, out var ip) && IPAddress.IsLoopback(ip));
        if (!loopback)
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var originUri)
            && string.Equals(originUri.Authority, host, StringComparison.OrdinalIgnoreCase);
    }

    private JsonObject ObjectInfo(string? nodeClass)
    {
        var result = new JsonObject();
        foreach (var definition in NodeLibrary.All)
        {
            if ((nodeClass is null || definition.Name == nodeClass) && !state.Options.MissingNodeClasses.Contains(definition.Name))
            {
                result[definition.Name] = definition.ObjectInfo(state.Folders);
            }
        }

        return result;
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new BadJsonException();
        }
    }

    private async Task PostPromptAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context).ConfigureAwait(false) as JsonObject ?? throw new BadJsonException();
        JsonNode number;
        double numberValue;
        if (body.ContainsKey("number"))
        {
            numberValue = body["number"] switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
                JsonValue v when v.GetValueKind() == JsonValueKind.String
                    && double.TryParse(v.GetValue<string>().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                JsonValue v when v.GetValueKind() == JsonValueKind.True => 1,
                JsonValue v when v.GetValueKind() == JsonValueKind.False => 0,
                _ => throw new BadJsonException(),
            };
            number = PythonText.FloatNode(numberValue);
        }
        else
        {
            var counter = state.Queue.TakeNumber();
            if (body.ContainsKey("front") && PythonText.Truthy(body["front"]))
            {
                counter = -counter;
            }

            numberValue = counter;
            number = JsonValue.Create(counter);
        }

        if (!body.ContainsKey("prompt"))
        {
            await Json(context, new JsonObject
            {
                ["error"] = new JsonObject { ["type"] = "no_prompt", ["message"] = "No prompt provided", ["details"] = "No prompt provided", ["extra_info"] = new JsonObject() },
                ["node_errors"] = new JsonObject(),
            }, 400).ConfigureAwait(false);
            return;
        }

        var prompt = body["prompt"] as JsonObject ?? throw new PythonException("AttributeError", "'list' object has no attribute 'items'");
        var promptId = body.ContainsKey("prompt_id") ? PythonText.Str(body["prompt_id"]) : Guid.NewGuid().ToString();
        var partial = body.ContainsKey("partial_execution_targets") ? body["partial_execution_targets"] : null;
        var result = state.Validator.Validate(prompt, partial);
        var extraData = body["extra_data"] as JsonObject ?? [];
        if (body.ContainsKey("client_id"))
        {
            extraData["client_id"] = body["client_id"]?.DeepClone();
        }

        if (!result.Ok)
        {
            await Json(context, new JsonObject { ["error"] = result.Error, ["node_errors"] = result.NodeErrors }, 400).ConfigureAwait(false);
            return;
        }

        body.Remove("prompt");
        body.Remove("extra_data");
        var item = new QueueItem(numberValue, number.ToJsonString(), promptId, prompt, extraData, result.GoodOutputs);
        state.ReceivedExtraData[promptId] = (JsonObject)extraData.DeepClone();
        state.Queue.Put(item);
        await Json(context, new JsonObject { ["prompt_id"] = promptId, ["number"] = number, ["node_errors"] = result.NodeErrors }).ConfigureAwait(false);
    }

    private async Task PostQueueAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context).ConfigureAwait(false) as JsonObject ?? throw new BadJsonException();
        if (body.ContainsKey("clear") && PythonText.Truthy(body["clear"]))
        {
            state.Queue.WipeQueue();
        }

        if (body["delete"] is JsonArray toDelete)
        {
            foreach (var id in toDelete)
            {
                state.Queue.Delete(PythonText.Str(id));
            }
        }

        context.Response.StatusCode = 200;
    }

    private async Task PostInterruptAsync(HttpContext context)
    {
        JsonNode? body;
        try
        {
            body = await ReadJsonAsync(context).ConfigureAwait(false);
        }
        catch (BadJsonException)
        {
            body = null;
        }

        state.CountInterruptRequest();
        var promptId = body is JsonObject o ? o["prompt_id"] : null;
        if (PythonText.Truthy(promptId))
        {
            // Only the running prompt is interrupted; anything else is logged and ignored.
            if (state.Queue.Running?.PromptId == PythonText.Str(promptId))
            {
                state.Executor.Interrupt();
            }
        }
        else
        {
            state.Executor.Interrupt();
        }

        context.Response.StatusCode = 200;
    }

    private async Task PostFreeAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context).ConfigureAwait(false) as JsonObject ?? throw new BadJsonException();
        state.Executor.Free(PythonText.Truthy(body["unload_models"]), PythonText.Truthy(body["free_memory"]));
        context.Response.StatusCode = 200;
    }

    private Task GetHistoryAsync(HttpContext context)
    {
        var query = context.Request.Query;
        int? maxItems = null;
        var offset = -1;
        if (query.TryGetValue("max_items", out var maxText))
        {
            maxItems = int.TryParse(maxText.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : throw new BadJsonException();
        }

        if (query.TryGetValue("offset", out var offsetText))
        {
            offset = int.TryParse(offsetText.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var o) ? o : throw new BadJsonException();
        }

        return Json(context, state.Queue.History(null, maxItems, offset));
    }

    private async Task PostHistoryAsync(HttpContext context)
    {
        var body = await ReadJsonAsync(context).ConfigureAwait(false) as JsonObject ?? throw new BadJsonException();
        if (body.ContainsKey("clear") && PythonText.Truthy(body["clear"]))
        {
            state.Queue.WipeHistory();
        }

        if (body["delete"] is JsonArray toDelete)
        {
            foreach (var id in toDelete)
            {
                state.Queue.DeleteHistory(PythonText.Str(id));
            }
        }

        context.Response.StatusCode = 200;
    }

    private string? DirectoryByType(string? type) => type switch
    {
        "output" => state.OutputDirectory,
        "input" => state.InputDirectory,
        "temp" => state.TempDirectory,
        _ => null,
    };

    private static bool Inside(string root, string path)
    {
        var fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        return full == fullRoot || full.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// The cleanup route of ComfyOperator's custom node (deploy/comfyui/custom_nodes/comfyoperator_cleanup),
    /// with its rules: a token, and only named files inside the input, output and temp folders.
    /// </summary>
    private async Task CleanupAsync(HttpContext context, string token)
    {
        if (token.Length == 0)
        {
            await Json(context, new JsonObject { ["error"] = "COMFYOPERATOR_CLEANUP_TOKEN is not set: cleanup is off" }, 403).ConfigureAwait(false);
            return;
        }

        var given = context.Request.Headers["X-ComfyOperator-Token"].ToString();
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token)))
        {
            await Json(context, new JsonObject { ["error"] = "missing or wrong X-ComfyOperator-Token" }, 401).ConfigureAwait(false);
            return;
        }

        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            body = null;
        }

        if ((body as JsonObject)?["files"] is not JsonArray { Count: <= 1000 } files)
        {
            await Json(context, new JsonObject { ["error"] = "the body must be {\"files\": [...]}" }, 400).ConfigureAwait(false);
            return;
        }

        JsonArray deleted = [], missing = [], refused = [];
        foreach (var entry in files)
        {
            var type = (entry as JsonObject)?["type"] is JsonValue t && t.TryGetValue<string>(out var ts) ? ts : null;
            var subfolder = (entry as JsonObject)?["subfolder"] is JsonValue s && s.TryGetValue<string>(out var ss) ? ss : "";
            var filename = (entry as JsonObject)?["filename"] is JsonValue f && f.TryGetValue<string>(out var fs) ? fs : null;
            var answer = new JsonObject { ["type"] = type, ["subfolder"] = subfolder, ["filename"] = filename };
            var (path, reason) = ResolveForCleanup(type, subfolder, filename);
            if (path is null)
            {
                answer["reason"] = reason;
                refused.Add(answer);
            }
            else if (!File.Exists(path) && new FileInfo(path).LinkTarget is null)
            {
                missing.Add(answer);
            }
            else
            {
                File.Delete(path);
                deleted.Add(answer);
                state.CountCleanedFile();
            }
        }

        await Json(context, new JsonObject { ["deleted"] = deleted, ["missing"] = missing, ["refused"] = refused }).ConfigureAwait(false);
    }

    /// <summary>cleanup.py's resolve(): the file's path inside its folder, or why it is refused.</summary>
    private (string? Path, string? Reason) ResolveForCleanup(string? type, string subfolder, string? filename)
    {
        if (DirectoryByType(type) is not { } directory)
        {
            return (null, "unknown folder type");
        }

        if (filename is null or "" or "." or ".." || filename.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            return (null, "not a plain file name");
        }

        if (subfolder.IndexOfAny(['\\', '\0']) >= 0 || subfolder.StartsWith('/') || subfolder.Split('/').Contains(".."))
        {
            return (null, "not a relative folder");
        }

        var root = RealPath(directory);
        var folder = RealPath(Path.Combine(root, subfolder));
        if (!Inside(root, folder))
        {
            return (null, "outside the folder");
        }

        var path = Path.Combine(folder, filename);
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return Inside(root, RealPath(path)) ? (path, null) : (null, "a symlink out of the folder");
        }

        return Directory.Exists(path) ? (null, "not a file") : (path, null);
    }

    /// <summary>os.path.realpath: every symlink on the way resolved, a missing tail kept as written.</summary>
    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var resolved = Path.GetPathRoot(full)!;
        foreach (var part in full[resolved.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(resolved, part);
            for (var hops = 0; hops < 40 && new FileInfo(next).LinkTarget is { } target; hops++)
            {
                next = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, target));
            }

            resolved = next;
        }

        return resolved;
    }

    private static (string Name, string? Type) Annotated(string name)
    {
        foreach (var type in new[] { "output", "input", "temp" })
        {
            var suffix = $" [{type}]";
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                return (name[..^suffix.Length], type);
            }
        }

        return (name, null);
    }

    /// <summary>Says the request is held, then waits for its release: true when the files are to be answered as gone.</summary>
    private static Task<bool> WaitForReleaseAsync(ViewHold held, CancellationToken cancellationToken)
    {
        held.Arrived.TrySetResult();
        return held.Released.Task.WaitAsync(cancellationToken);
    }

    private async Task ViewAsync(HttpContext context)
    {
        if (state.HeldViews is { } held && await WaitForReleaseAsync(held, context.RequestAborted).ConfigureAwait(false))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var query = context.Request.Query;
        if (!query.TryGetValue("filename", out var filenameValues))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var (filename, annotatedType) = Annotated(filenameValues.ToString());
        if (filename.Length == 0 || filename[0] == '/' || filename.Contains("..", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 400;
            return;
        }

        var directory = annotatedType is not null
            ? DirectoryByType(annotatedType)
            : DirectoryByType(query.TryGetValue("type", out var t) ? t.ToString() : "output");
        if (directory is null)
        {
            context.Response.StatusCode = 400;
            return;
        }

        if (query.TryGetValue("subfolder", out var subfolder))
        {
            var full = Path.Combine(directory, subfolder.ToString());
            if (!Inside(directory, full))
            {
                context.Response.StatusCode = 403;
                return;
            }

            directory = full;
        }

        var baseName = Path.GetFileName(filename);
        var file = Path.Combine(directory, baseName);
        if (!File.Exists(file))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var bytes = await File.ReadAllBytesAsync(file, context.RequestAborted).ConfigureAwait(false);
        var channel = query.TryGetValue("channel", out var c) ? c.ToString() : "rgba";
        if (channel is "rgb" or "a" && PngFile.TryDecode(bytes) is { } image)
        {
            bytes = PngFile.Encode(channel == "rgb" ? image.ToRgb() : AlphaOnly(image));
            context.Response.ContentType = "image/png";
        }
        else
        {
            context.Response.ContentType = ContentTypeFor(baseName);
            context.Response.Headers.ContentDisposition = $"filename=\"{baseName}\"";
        }

        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static SimImage AlphaOnly(SimImage image)
    {
        var pixels = new byte[image.Width * image.Height * 4];
        for (var i = 0; i < image.Width * image.Height; i++)
        {
            pixels[(i * 4) + 3] = image.Channels == 4 ? image.Pixels[(i * 4) + 3] : (byte)255;
        }

        return new SimImage(image.Width, image.Height, 4, pixels);
    }

    private static string ContentTypeFor(string name) => Path.GetExtension(name).ToUpperInvariant() switch
    {
        ".PNG" => "image/png",
        ".JPG" or ".JPEG" => "image/jpeg",
        ".WEBP" => "image/webp",
        ".GIF" => "image/gif",
        ".JSON" => "application/json",
        ".TXT" => "text/plain",
        _ => "application/octet-stream",
    };

    private async Task UploadAsync(HttpContext context, bool mask)
    {
        if (!context.Request.HasFormContentType)
        {
            throw new PythonException("AssertionError", "multipart expected");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var image = form.Files.GetFile("image");
        var type = form.TryGetValue("type", out var typeValue) ? typeValue.ToString() : null;
        var uploadType = type ?? "input";
        var uploadDirectory = DirectoryByType(uploadType) ?? throw new PythonException("UnboundLocalError", "cannot access local variable 'upload_dir'");
        if (image is null || string.IsNullOrEmpty(image.FileName))
        {
            context.Response.StatusCode = 400;
            return;
        }

        var filename = image.FileName;
        var subfolder = form.TryGetValue("subfolder", out var sub) ? sub.ToString() : "";
        var folder = Path.GetFullPath(Path.Combine(uploadDirectory, subfolder));
        var filePath = Path.GetFullPath(Path.Combine(folder, filename));
        if (!Inside(uploadDirectory, filePath))
        {
            context.Response.StatusCode = 400;
            return;
        }

        Directory.CreateDirectory(folder);
        await using var uploaded = new MemoryStream();
        await image.CopyToAsync(uploaded, context.RequestAborted).ConfigureAwait(false);
        var content = uploaded.ToArray();
        var overwrite = form.TryGetValue("overwrite", out var ow) ? ow.ToString() : null;
        var duplicate = false;
        if (overwrite is not ("true" or "1"))
        {
            var stem = Path.GetFileNameWithoutExtension(filename);
            var extension = Path.GetExtension(filename);
            for (var i = 1; File.Exists(filePath); i++)
            {
                if ((await File.ReadAllBytesAsync(filePath, context.RequestAborted).ConfigureAwait(false)).AsSpan().SequenceEqual(content))
                {
                    duplicate = true;
                    break;
                }

                filename = $"{stem} ({i}){extension}";
                filePath = Path.Combine(folder, filename);
            }
        }

        if (!duplicate)
        {
            if (mask)
            {
                var status = await SaveMaskAsync(form, content, filePath, context.RequestAborted).ConfigureAwait(false);
                if (status != 200)
                {
                    context.Response.StatusCode = status;
                    return;
                }
            }
            else
            {
                await File.WriteAllBytesAsync(filePath, content, context.RequestAborted).ConfigureAwait(false);
            }
        }

        await Json(context, new JsonObject { ["name"] = filename, ["subfolder"] = subfolder, ["type"] = uploadType }).ConfigureAwait(false);
    }

    /// <summary>/upload/mask: copy the upload's alpha into the referenced original and save the result as PNG.</summary>
    private async Task<int> SaveMaskAsync(IFormCollection form, byte[] maskBytes, string filePath, CancellationToken cancellationToken)
    {
        JsonObject reference;
        try
        {
            reference = JsonNode.Parse(form["original_ref"].ToString()) as JsonObject ?? throw new PythonException("TypeError", "original_ref");
        }
        catch (JsonException)
        {
            throw new PythonException("JSONDecodeError", "original_ref");
        }

        var (name, annotatedType) = Annotated(PythonText.Str(reference["filename"]));
        if (name.Length == 0 || name[0] == '/' || name.Contains("..", StringComparison.Ordinal))
        {
            return 400;
        }

        var directory = DirectoryByType(annotatedType ?? (reference["type"] is JsonNode tn ? PythonText.Str(tn) : "output"));
        if (directory is null)
        {
            return 400;
        }

        var sub = reference["subfolder"] is JsonNode s ? PythonText.Str(s) : "";
        if (sub.Length > 0)
        {
            var full = Path.Combine(directory, sub);
            if (!Inside(directory, full))
            {
                return 403;
            }

            directory = full;
        }

        var originalPath = Path.Combine(directory, name);
        if (!File.Exists(originalPath))
        {
            return 200;
        }

        var original = PngFile.TryDecode(await File.ReadAllBytesAsync(originalPath, cancellationToken).ConfigureAwait(false), out var text)
            ?? throw new PythonException("PIL.UnidentifiedImageError", "cannot identify image file");
        var maskImage = PngFile.TryDecode(maskBytes) ?? throw new PythonException("PIL.UnidentifiedImageError", "cannot identify image file");
        if (maskImage.Width != original.Width || maskImage.Height != original.Height)
        {
            throw new PythonException("ValueError", "images do not match");
        }

        var pixels = new byte[original.Width * original.Height * 4];
        for (var i = 0; i < original.Width * original.Height; i++)
        {
            pixels[i * 4] = original.Pixels[i * original.Channels];
            pixels[(i * 4) + 1] = original.Pixels[(i * original.Channels) + 1];
            pixels[(i * 4) + 2] = original.Pixels[(i * original.Channels) + 2];
            pixels[(i * 4) + 3] = maskImage.Channels == 4 ? maskImage.Pixels[(i * 4) + 3] : (byte)255;
        }

        await File.WriteAllBytesAsync(filePath, PngFile.Encode(new SimImage(original.Width, original.Height, 4, pixels), text), cancellationToken).ConfigureAwait(false);
        return 200;
    }

    private async Task SystemStatsAsync(HttpContext context)
    {
        var options = state.Options;
        if (options.SystemStatsDelay > TimeSpan.Zero)
        {
            await Task.Delay(options.SystemStatsDelay, options.TimeProvider, context.RequestAborted).ConfigureAwait(false);
        }

        var gc = GC.GetGCMemoryInfo();
        var ramTotal = gc.TotalAvailableMemoryBytes;
        var used = state.Executor.LoadedModel is null ? 0 : options.VramTotal / 4;
        await Json(context, new JsonObject
        {
            ["system"] = new JsonObject
            {
                ["os"] = "posix",
                ["ram_total"] = ramTotal,
                ["ram_free"] = Math.Max(0, ramTotal - gc.MemoryLoadBytes),
                ["comfyui_version"] = options.Version,
                ["required_frontend_version"] = "1.27.10",
                ["installed_templates_version"] = "0.1.95",
                ["required_templates_version"] = "0.1.95",
                ["python_version"] = "3.12.3 (main, simulated) [GCC 13.2.0]",
                ["pytorch_version"] = "2.8.0+cu128",
                ["embedded_python"] = false,
                ["argv"] = new JsonArray("main.py", "--listen", options.Host, "--port", context.Connection.LocalPort.ToString(CultureInfo.InvariantCulture)),
            },
            ["devices"] = new JsonArray(new JsonObject
            {
                ["name"] = $"cuda:0 {options.GpuName} : cudaMallocAsync",
                ["type"] = "cuda",
                ["index"] = 0,
                ["vram_total"] = options.VramTotal,
                ["vram_free"] = options.VramTotal - used,
                ["torch_vram_total"] = used,
                ["torch_vram_free"] = 0,
            }),
        }).ConfigureAwait(false);
    }

    /// <summary>The ws feature_flags exchange exists from 0.3.44 (docs/comfyui-protocol.md §0).</summary>
    private static bool SupportsFeatureFlags(string version) =>
        !System.Version.TryParse(version.Split('-', '+')[0], out var parsed) || parsed >= new Version(0, 3, 44);

    private async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Text(context, 400, "No WebSocket UPGRADE hdr: None\n Can \"Upgrade\" only to \"WebSocket\".").ConfigureAwait(false);
            return;
        }

        var sid = context.Request.Query.TryGetValue("clientId", out var id) && id.ToString().Length > 0 ? id.ToString() : Guid.NewGuid().ToString("N");
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = new WebSocketConnection(sid, socket);
        var status = SimulatorState.StatusData(state.Queue.Remaining);
        status["sid"] = sid;
        connection.Enqueue(WebSocketHub.Frame("status", status), text: true);
        var (runningClient, lastNode) = state.Executor.Current;
        if (runningClient == sid && lastNode is not null)
        {
            connection.Enqueue(WebSocketHub.Frame("executing", new JsonObject { ["node"] = lastNode }), text: true);
        }

        state.Hub.Add(connection);
        var pump = connection.PumpAsync(context.RequestAborted);
        var buffer = new byte[16 * 1024];
        var first = true;
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    continue;
                }

                if (first)
                {
                    first = false;
                    if (!SupportsFeatureFlags(state.Options.Version))
                    {
                        // Servers before 0.3.44 ignore every client message.
                        continue;
                    }

                    if (state.Options.FeatureFlagsDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(state.Options.FeatureFlagsDelay, state.Options.TimeProvider, context.RequestAborted).ConfigureAwait(false);
                    }

                    try
                    {
                        if (JsonNode.Parse(message.ToArray()) is JsonObject hello && hello["type"]?.GetValueKind() == JsonValueKind.String
                            && hello["type"]!.GetValue<string>() == "feature_flags")
                        {
                            connection.SupportsPreviewMetadata = PythonText.Truthy(hello["data"]?["supports_preview_metadata"]);
                            connection.Enqueue(WebSocketHub.Frame("feature_flags", state.Features()), text: true);
                        }
                    }
                    catch (JsonException)
                    {
                        // Invalid JSON from a client is logged and ignored by the server.
                    }
                }
            }
        }
        catch (WebSocketException)
        {
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            state.Hub.Remove(connection);
            connection.Complete();
        }

        await pump.ConfigureAwait(false);
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, closeTimeout.Token).ConfigureAwait(false);
            }
            catch (WebSocketException)
            {
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task Json(HttpContext context, JsonNode node, int status = 200)
    {
        var bytes = Encoding.UTF8.GetBytes(node.ToJsonString(PythonText.Wire));
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task Text(HttpContext context, int status, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task MethodNotAllowed(HttpContext context) => Text(context, 405, "405: Method Not Allowed");

    private static Task ServerError(HttpContext context) =>
        context.Response.HasStarted ? Task.CompletedTask : Text(context, 500, "500 Internal Server Error\n\nServer got itself in trouble");
}
