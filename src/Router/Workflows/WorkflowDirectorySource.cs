using ComfyOperator.Entities;
using k8s;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// WorkflowDeployments from <c>Router:WorkflowsDirectory</c>: every <c>*.yaml</c>, <c>*.yml</c> and
/// <c>*.json</c> file, several documents per file, other kinds skipped. Read at start and again when
/// a file changes; a file that does not parse is logged and the rest still load.
/// Editors and <c>File.WriteAllText</c> truncate before they write, so a read can catch a file empty
/// or half written: a file that had workflows and now reads empty or does not parse keeps its previous
/// workflows once and is read again a moment later; only a second such read is believed. A deleted file
/// is not held back.
/// </summary>
internal sealed partial class WorkflowDirectorySource(
    WorkflowCatalog catalog,
    IOptions<WorkflowRoutingOptions> options,
    ILogger<WorkflowDirectorySource> logger) : IHostedService, IDisposable
{
    private readonly Lock _gate = new();
    private FileSystemWatcher? _watcher;
    private Timer? _debounce;

    /// <summary>What the last load believed of each file (full path), so a bad read can fall back on it.</summary>
    private readonly Dictionary<string, IReadOnlyList<WorkflowDefinition>> _byFile = new(StringComparer.Ordinal);

    /// <summary>Files whose last read was empty or broken and held back; the next such read is believed.</summary>
    private readonly HashSet<string> _heldBack = new(StringComparer.Ordinal);

    /// <summary>How long the watcher waits for changes to settle, and a held-back file waits before its re-read.</summary>
    public static readonly TimeSpan ReloadDelay = TimeSpan.FromMilliseconds(200);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = options.Value.WorkflowsDirectory;
        if (string.IsNullOrWhiteSpace(directory))
        {
            return Task.CompletedTask;
        }

        directory = Path.GetFullPath(directory);
        Load(directory);
        if (Directory.Exists(directory))
        {
            _debounce = new Timer(_ => Load(directory));
            _watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false, EnableRaisingEvents = true };
            _watcher.Changed += (_, _) => Schedule();
            _watcher.Created += (_, _) => Schedule();
            _watcher.Deleted += (_, _) => Schedule();
            _watcher.Renamed += (_, _) => Schedule();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
        _watcher = null;
        _debounce = null;
    }

    /// <summary>Reads every workflow file of <paramref name="directory"/> into the catalog.</summary>
    public void Load(string directory)
    {
        lock (_gate)
        {
            var workflows = new List<WorkflowDefinition>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var recheck = false;
            if (!Directory.Exists(directory))
            {
                LogMissing(logger, directory);
            }
            else
            {
                foreach (var file in Directory.EnumerateFiles(directory).Where(IsWorkflowFile).Order(StringComparer.Ordinal))
                {
                    seen.Add(file);
                    IReadOnlyList<WorkflowDefinition> fromFile;
                    string? error = null;
                    try
                    {
                        fromFile = [.. ReadFile(file)];
                    }
                    catch (FileNotFoundException)
                    {
                        // Deleted between listing and reading: gone, like a file that is not listed.
                        seen.Remove(file);
                        continue;
                    }
                    catch (Exception ex) when (ex is IOException or YamlDotNet.Core.YamlException or System.Text.Json.JsonException or InvalidOperationException)
                    {
                        fromFile = [];
                        error = ex.Message;
                    }

                    if (fromFile.Count == 0 && _byFile.TryGetValue(file, out var previous) && previous.Count > 0 && _heldBack.Add(file))
                    {
                        // Caught between a writer's truncate and its write: keep what the file had and
                        // look again; a file still empty or broken then is believed.
                        LogHeldBack(logger, file, previous.Count, error ?? "no workflows");
                        workflows.AddRange(previous);
                        recheck = true;
                        continue;
                    }

                    _heldBack.Remove(file);
                    _byFile[file] = fromFile;
                    workflows.AddRange(fromFile);
                    if (error is not null)
                    {
                        LogBadFile(logger, file, error);
                    }
                }
            }

            foreach (var gone in _byFile.Keys.Where(f => !seen.Contains(f)).ToList())
            {
                _byFile.Remove(gone);
                _heldBack.Remove(gone);
            }

            if (recheck)
            {
                Schedule();
            }

            catalog.Replace(WorkflowSourceNames.File, workflows);
            LogLoaded(logger, workflows.Count, directory);
        }
    }

    public static IEnumerable<WorkflowDefinition> ReadFile(string file)
    {
        foreach (var document in YamlJson.ReadDocuments(File.ReadAllText(file)))
        {
            if (document?["kind"]?.GetValue<string>() is not "WorkflowDeployment")
            {
                continue;
            }

            var deployment = KubernetesJson.Deserialize<WorkflowDeployment>(document.ToJsonString())
                ?? throw new InvalidOperationException("empty WorkflowDeployment");
            yield return WorkflowDefinitionFactory.Create(deployment, WorkflowSourceNames.File);
        }
    }

    private static bool IsWorkflowFile(string path) =>
        Path.GetExtension(path) is ".yaml" or ".yml" or ".json";

    private void Schedule() => _debounce?.Change(ReloadDelay, Timeout.InfiniteTimeSpan);

    [LoggerMessage(EventId = EventIds.WorkflowDirectorySourceLoaded, Level = LogLevel.Information, Message = "Loaded {Count} workflows from {Directory}")]
    private static partial void LogLoaded(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = EventIds.WorkflowDirectorySourceBadFile, Level = LogLevel.Error, Message = "Workflow file {File} skipped: {Error}")]
    private static partial void LogBadFile(ILogger logger, string file, string error);

    [LoggerMessage(EventId = EventIds.WorkflowDirectorySourceHeldBack, Level = LogLevel.Information, Message = "Workflow file {File} read without workflows ({Error}); keeping its {Count} workflows until it is read again")]
    private static partial void LogHeldBack(ILogger logger, string file, int count, string error);

    [LoggerMessage(EventId = EventIds.WorkflowDirectorySourceMissing, Level = LogLevel.Warning, Message = "Workflows directory {Directory} does not exist")]
    private static partial void LogMissing(ILogger logger, string directory);
}
