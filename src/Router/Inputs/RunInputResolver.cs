using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Metrics;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Inputs;

/// <summary><see cref="IRunInputResolver"/> over <see cref="InputCache"/>: uploads by content-hash name, or symlinks on a shared volume.</summary>
internal sealed partial class RunInputResolver(
    InputCache cache,
    SafeHttpDownloader downloader,
    InputCacheOptions options,
    RouterMetrics metrics,
    ILogger<RunInputResolver> logger) : IRunInputResolver
{
    public const string CachePrefix = "cache:";

    /// <summary>Folder (under the worker's input or model folder) the links are made in.</summary>
    public const string LinkFolder = "comfy-router";

    private static readonly (string ClassType, string Input, InputKind Kind)[] FileInputs =
    [
        ("LoadImage", "image", InputKind.Image),
        ("LoadImageMask", "image", InputKind.Image),
        ("LoadVideo", "file", InputKind.File),
        ("LoadAudio", "audio", InputKind.File),
    ];

    public async Task<IReadOnlyList<RunInput>> PrepareAsync(WorkflowGraph graph, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var found = new List<RunInput>();
        try
        {
            foreach (var node in graph.Nodes)
            {
                // Collected first: preparing an input rewrites it in the graph.
                List<(string Name, string Value, InputKind Kind, string? Folder)>? provided = null;
                foreach (var (name, value) in node.StringInputs())
                {
                    if (IsProvided(value) && KindOf(node.ClassType, name) is { } target)
                    {
                        (provided ??= []).Add((name, value, target.Kind, target.Folder));
                    }
                }

                foreach (var (name, value, kind, folder) in provided ?? [])
                {
                    found.Add(await PrepareOneAsync(graph, node.Id, name, kind, folder, value, cancellationToken));
                }
            }
        }
        catch
        {
            Release(found);
            throw;
        }

        return found;
    }

    public async Task<IReadOnlyList<RunInput>> ResolveAsync(IReadOnlyList<RunInput> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var pinned = new List<RunInput>();
        var resolved = new List<RunInput>(inputs.Count);
        try
        {
            foreach (var input in inputs)
            {
                if (input.FileName is not null)
                {
                    resolved.Add(input);
                    continue;
                }

                var cached = await DownloadAsync(input, cancellationToken);
                var done = input with { FileName = cached.FileName };
                pinned.Add(done);
                resolved.Add(done);
            }
        }
        catch
        {
            Release(pinned);
            throw;
        }

        return resolved;
    }

    public async Task ApplyAsync(JsonObject graph, IReadOnlyList<RunInput> inputs, ComfyClient worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(worker);
        foreach (var input in inputs)
        {
            var fileName = input.FileName ?? throw new InvalidOperationException($"Input {FieldOf(input.NodeId, input.Input)} was not resolved before dispatch.");
            var path = cache.PathOf(fileName) ?? throw new InputRefusedException(FieldOf(input.NodeId, input.Input), $"the cached file {fileName} is gone");
            string value;
            if (options.LinksIntoWorkers)
            {
                value = Link(input, fileName);
            }
            else
            {
                await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);

                // The name is the content hash and overwrite is off: a worker that has the file already answers with it
                // unchanged (same bytes, no write), so a run never reads a file another upload is rewriting.
                var uploaded = await worker.UploadImageAsync(content, fileName, new ComfyUploadOptions { Overwrite = false }, cancellationToken);
                value = uploaded.PromptValue;
            }

            if (graph[input.NodeId]?["inputs"] is JsonObject values)
            {
                values[input.Input] = value;
            }
        }
    }

    public void Release(IEnumerable<RunInput> inputs)
    {
        foreach (var input in inputs)
        {
            if (input.FileName is { } fileName)
            {
                cache.Unpin(fileName);
            }
        }
    }

    public void RestorePins(IEnumerable<RunInput> inputs) =>
        cache.RestorePins(inputs.Where(i => i.FileName is not null).Select(i => i.FileName!));

    /// <summary>A URL of any scheme counts (so ftp:// or file:// are refused by name, not sent to the worker as a file name).</summary>
    internal static bool IsProvided(string value) =>
        value.Contains("://", StringComparison.Ordinal)
        || value.StartsWith("data:", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith(CachePrefix, StringComparison.Ordinal);

    internal static string FieldOf(string nodeId, string input) => $"workflow.{nodeId}.inputs.{input}";

    private static (InputKind Kind, string? Folder)? KindOf(string classType, string input)
    {
        foreach (var (type, name, kind) in FileInputs)
        {
            if (type == classType && name == input)
            {
                return (kind, null);
            }
        }

        return ModelFolders.For(classType, input) is { } folder ? (InputKind.Model, folder) : null;
    }

    private async Task<RunInput> PrepareOneAsync(WorkflowGraph graph, string nodeId, string name, InputKind kind, string? folder, string value, CancellationToken cancellationToken)
    {
        var field = FieldOf(nodeId, name);
        if (kind == InputKind.Model && !options.LinksIntoWorkers)
        {
            throw new InputRefusedException(field, "a model given by URL or cache reference needs workers that share the cache volume (Router:Inputs:Visibility=link)");
        }

        if (value.StartsWith(CachePrefix, StringComparison.Ordinal))
        {
            var fileName = value[CachePrefix.Length..];
            if (!cache.Pin(fileName))
            {
                throw new InputRefusedException(field, $"the input cache has no file '{fileName}'");
            }

            return new RunInput(nodeId, name, kind, folder, value, fileName);
        }

        if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var stored = await cache.GetOrDownloadAsync(field, value, kind, null, pin: true, cancellationToken);
            var reference = CachePrefix + stored.FileName;
            graph.SetInput(nodeId, name, reference);
            return new RunInput(nodeId, name, kind, folder, reference, stored.FileName);
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var url))
        {
            throw new InputRefusedException(field, "not an absolute URL");
        }

        await downloader.CheckUrlAsync(field, url, cancellationToken);
        return new RunInput(nodeId, name, kind, folder, value, null);
    }

    private async Task<CachedInput> DownloadAsync(RunInput input, CancellationToken cancellationToken)
    {
        var field = FieldOf(input.NodeId, input.Input);
        metrics.InputDownloadStarted();
        try
        {
            var cached = await cache.GetOrDownloadAsync(field, input.Source, input.Kind, null, pin: true, cancellationToken);
            if (cached.Downloaded)
            {
                metrics.InputCacheMiss();
                LogDownloaded(field, cached.FileName, cached.Size);
            }
            else
            {
                metrics.InputCacheHit();
            }

            return cached;
        }
        finally
        {
            metrics.InputDownloadEnded();
        }
    }

    /// <summary>A symlink named like the cache file in the worker's input (or model) folder, pointing into the shared cache volume.</summary>
    private string Link(RunInput input, string fileName)
    {
        var root = input.ModelFolder is { } folder
            ? Path.Combine(options.WorkerModelsDirectory ?? throw new InvalidOperationException("Router:Inputs:WorkerModelsDirectory is required with Visibility=link."), folder)
            : options.WorkerInputDirectory ?? throw new InvalidOperationException("Router:Inputs:WorkerInputDirectory is required with Visibility=link.");
        var directory = Path.Combine(root, LinkFolder);
        Directory.CreateDirectory(directory);
        var link = Path.Combine(directory, fileName);
        var target = Path.Combine(options.WorkerCacheDirectory ?? cache.CacheDirectory, fileName);
        if (new FileInfo(link).LinkTarget != target)
        {
            try
            {
                File.Delete(link);
                File.CreateSymbolicLink(link, target);
            }
            catch (IOException) when (new FileInfo(link).LinkTarget == target)
            {
                // Another dispatch of the same file made it first.
            }
        }

        return $"{LinkFolder}/{fileName}";
    }

    [LoggerMessage(EventId = EventIds.RunInputResolverDownloaded, Level = LogLevel.Debug, Message = "Input {Field} downloaded into the cache as {FileName} ({Bytes} bytes)")]
    private partial void LogDownloaded(string field, string fileName, long bytes);
}
