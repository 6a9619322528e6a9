using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.UserData;

/// <summary>
/// ComfyUI's user state routes (<c>/users</c>, <c>/settings</c>, <c>/userdata…</c>, <c>/v2/userdata</c>)
/// with ComfyUI's shapes, answered from the router's database (<see cref="IUserFileStore"/>): each
/// caller (API key, Basic user) is one ComfyUI user, whichever worker serves the page and whichever
/// replica answers. Settings are the user file <c>comfy.settings.json</c>, as on ComfyUI.
/// </summary>
internal static class UserDataApi
{
    public const string SettingsFile = "comfy.settings.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IEndpointRouteBuilder MapUserDataApi(this IEndpointRouteBuilder app)
    {
        foreach (var group in ComfyApi.ComfyApi.MapComfyGroups(app))
        {
            group.MapGet("/users", GetUsersAsync);
            group.MapPost("/users", () => Json(new JsonObject { ["error"] = "Each API key or Basic user is its own user: sign in with another one to be another user." }, StatusCodes.Status400BadRequest));
            group.MapGet("/settings", GetSettingsAsync);
            group.MapPost("/settings", PostSettingsAsync);
            group.MapGet("/settings/{id}", GetSettingAsync);
            group.MapPost("/settings/{id}", PostSettingAsync);
            group.MapGet("/userdata", ListAsync);
            group.MapGet("/v2/userdata", ListFolderAsync);
            group.MapGet("/userdata/{file}", GetFileAsync);
            group.MapPost("/userdata/{file}", PostFileAsync);
            group.MapDelete("/userdata/{file}", DeleteFileAsync);
            group.MapPost("/userdata/{file}/move/{dest}", MoveFileAsync);
        }

        return app;
    }

    /// <summary>ComfyUI's single-user answer: the storage is the server's, "migrated" once the caller has any file.</summary>
    internal static async Task<IResult> GetUsersAsync(HttpContext context, IUserFileStore files, CancellationToken cancellationToken) =>
        Json(new JsonObject { ["storage"] = "server", ["migrated"] = (await files.ListAsync(Owner(context), "", cancellationToken)).Count > 0 });

    internal static async Task<IResult> GetSettingsAsync(HttpContext context, IUserFileStore files, CancellationToken cancellationToken) =>
        Json(await ReadSettingsAsync(Owner(context), files, cancellationToken));

    internal static async Task<IResult> GetSettingAsync(string id, HttpContext context, IUserFileStore files, CancellationToken cancellationToken) =>
        Json((await ReadSettingsAsync(Owner(context), files, cancellationToken))[id]?.DeepClone());

    /// <summary>Merges the body's settings into the caller's.</summary>
    internal static async Task<IResult> PostSettingsAsync(HttpContext context, IUserFileStore files, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await ReadJsonAsync(context.Request, cancellationToken) is not (true, JsonObject changes))
        {
            return BadJson();
        }

        var owner = Owner(context);
        var settings = await ReadSettingsAsync(owner, files, cancellationToken);
        foreach (var (key, value) in changes)
        {
            settings[key] = value?.DeepClone();
        }

        await WriteSettingsAsync(owner, settings, files, time, cancellationToken);
        return TypedResults.Ok();
    }

    internal static async Task<IResult> PostSettingAsync(string id, HttpContext context, IUserFileStore files, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await ReadJsonAsync(context.Request, cancellationToken) is not (true, var value))
        {
            return BadJson();
        }

        var owner = Owner(context);
        var settings = await ReadSettingsAsync(owner, files, cancellationToken);
        settings[id] = value;
        await WriteSettingsAsync(owner, settings, files, time, cancellationToken);
        return TypedResults.Ok();
    }

    /// <summary>
    /// <c>?dir=</c> (required) lists the files in that folder, <c>recurse=true</c> below it too; paths are relative to
    /// the folder; <c>full_info=true</c> gives <c>{path, size, modified}</c>, <c>split=true</c> <c>[path, ...segments]</c>.
    /// </summary>
    internal static async Task<IResult> ListAsync(
        HttpContext context, IUserFileStore files, string? dir, string? recurse, string? full_info, string? split, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(dir) || UserFilePath.Folder(dir) is not { } folder)
        {
            return Text(StatusCodes.Status400BadRequest, string.IsNullOrEmpty(dir) ? "dir is required" : "Invalid directory");
        }

        var found = await files.ListAsync(Owner(context), folder, cancellationToken);
        if (found.Count == 0)
        {
            return Text(StatusCodes.Status404NotFound, "404: Not Found");
        }

        var result = new JsonArray();
        foreach (var file in found)
        {
            var relative = file.Path[folder.Length..];
            if (!IsTrue(recurse) && relative.Contains('/', StringComparison.Ordinal))
            {
                continue;
            }

            result.Add(IsTrue(full_info) ? Info(relative, file)
                : IsTrue(split) ? new JsonArray([relative, .. relative.Split('/').Select(s => (JsonNode)s)])
                : relative);
        }

        return Json(result);
    }

    /// <summary><c>?path=</c> (a folder, empty for the top): its files and sub-folders as <c>{name, path, type, size?, modified?}</c>.</summary>
    internal static async Task<IResult> ListFolderAsync(HttpContext context, IUserFileStore files, string? path, CancellationToken cancellationToken)
    {
        var folder = string.IsNullOrEmpty(path?.Trim('/')) ? "" : UserFilePath.Folder(path);
        if (folder is null)
        {
            return Text(StatusCodes.Status400BadRequest, "Invalid path");
        }

        var found = await files.ListAsync(Owner(context), folder, cancellationToken);
        if (found.Count == 0 && folder.Length > 0)
        {
            return Text(StatusCodes.Status404NotFound, "404: Not Found");
        }

        var result = new JsonArray();
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in found)
        {
            var relative = file.Path[folder.Length..];
            if (relative.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0)
            {
                folders.Add(relative[..slash]);
                continue;
            }

            result.Add(new JsonObject
            {
                ["name"] = relative,
                ["path"] = file.Path,
                ["type"] = "file",
                ["size"] = file.Size,
                ["modified"] = file.Modified.ToUnixTimeMilliseconds() / 1000.0,
            });
        }

        foreach (var name in folders)
        {
            result.Add(new JsonObject { ["name"] = name, ["path"] = folder + name, ["type"] = "directory" });
        }

        return Json(result);
    }

    internal static async Task<IResult> GetFileAsync(string file, HttpContext context, IUserFileStore files, CancellationToken cancellationToken)
    {
        if (PathOf(file) is not { } path || await files.GetAsync(Owner(context), path, cancellationToken) is not { } found)
        {
            return Text(StatusCodes.Status404NotFound, "404: Not Found");
        }

        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.LastModified = found.Modified.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Bytes(found.Content, path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "application/json" : "application/octet-stream");
    }

    /// <summary>Writes the body to the file (<c>overwrite=false</c>: 409 when it exists); answers its path, or <c>full_info</c>.</summary>
    internal static async Task<IResult> PostFileAsync(
        string file, HttpContext context, IUserFileStore files, TimeProvider time, string? overwrite, string? full_info, CancellationToken cancellationToken)
    {
        if (PathOf(file) is not { } path)
        {
            return Text(StatusCodes.Status400BadRequest, "Invalid file path");
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, cancellationToken);
        var content = buffer.ToArray();
        var now = time.GetUtcNow();
        if (!await files.PutAsync(Owner(context), path, content, now, overwrite != "false", cancellationToken))
        {
            return Text(StatusCodes.Status409Conflict, "File already exists");
        }

        return Json(IsTrue(full_info) ? Info(path, new UserFileInfo(path, content.LongLength, now)) : path);
    }

    internal static async Task<IResult> DeleteFileAsync(string file, HttpContext context, IUserFileStore files, CancellationToken cancellationToken) =>
        PathOf(file) is { } path && await files.DeleteAsync(Owner(context), path, cancellationToken)
            ? TypedResults.NoContent()
            : Text(StatusCodes.Status404NotFound, "404: Not Found");

    internal static async Task<IResult> MoveFileAsync(
        string file, string dest, HttpContext context, IUserFileStore files, TimeProvider time, string? overwrite, string? full_info, CancellationToken cancellationToken)
    {
        if (PathOf(file) is not { } from || PathOf(dest) is not { } to)
        {
            return Text(StatusCodes.Status400BadRequest, "Invalid file path");
        }

        var owner = Owner(context);
        if (await files.GetAsync(owner, from, cancellationToken) is not { } source)
        {
            return Text(StatusCodes.Status404NotFound, "404: Not Found");
        }

        var now = time.GetUtcNow();
        if (from != to && !await files.MoveAsync(owner, from, to, overwrite != "false", now, cancellationToken))
        {
            return Text(StatusCodes.Status409Conflict, "File already exists");
        }

        return Json(IsTrue(full_info) ? Info(to, new UserFileInfo(to, source.Content.LongLength, now)) : to);
    }

    /// <summary>The caller's files: the API key or Basic user; everyone the same when the routes are open without credentials.</summary>
    private static string Owner(HttpContext context) => RunOwner.Of(context) ?? "";

    /// <summary>
    /// The front end sends a nested path as one segment (<c>workflows%2Fa.json</c>); the route value keeps <c>%2F</c>
    /// encoded, so it is decoded once here and checked.
    /// </summary>
    private static string? PathOf(string file) => UserFilePath.Normalize(Uri.UnescapeDataString(file));

    private static async Task<JsonObject> ReadSettingsAsync(string owner, IUserFileStore files, CancellationToken cancellationToken)
    {
        if (await files.GetAsync(owner, SettingsFile, cancellationToken) is not { } file)
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(file.Content) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            // ComfyUI starts from empty settings when the file does not parse; so does the router.
            return [];
        }
    }

    private static Task<bool> WriteSettingsAsync(string owner, JsonObject settings, IUserFileStore files, TimeProvider time, CancellationToken cancellationToken) =>
        files.PutAsync(owner, SettingsFile, JsonSerializer.SerializeToUtf8Bytes(settings, Indented), time.GetUtcNow(), overwrite: true, cancellationToken);

    private static async Task<(bool Ok, JsonNode? Value)> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return (true, await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken));
        }
        catch (JsonException)
        {
            return (false, null);
        }
    }

    private static JsonObject Info(string path, UserFileInfo file) => new()
    {
        ["path"] = path,
        ["size"] = file.Size,
        ["modified"] = file.Modified.ToUnixTimeMilliseconds() / 1000.0,
    };

    private static bool IsTrue(string? flag) => string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase);

    private static ContentHttpResult BadJson() => Text(StatusCodes.Status400BadRequest, "The body is not valid JSON");

    private static ContentHttpResult Json(JsonNode? node, int status = StatusCodes.Status200OK) =>
        TypedResults.Text(node?.ToJsonString() ?? "null", "application/json", statusCode: status);

    private static ContentHttpResult Text(int status, string text) => TypedResults.Text(text, statusCode: status);
}
