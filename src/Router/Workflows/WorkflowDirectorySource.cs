using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// WorkflowDeployments from <c>Router:WorkflowsDirectory</c>: every <c>*.yaml</c>, <c>*.yml</c> and
/// <c>*.json</c> file, several documents per file, other kinds skipped. Read at start and again when
/// a file changes; a file that does not parse is logged and the rest still load.
/// </summary>
internal sealed partial class WorkflowDirectorySource(
    WorkflowCatalog catalog,
    IOptions<WorkflowRoutingOptions> options,
    ILogger<WorkflowDirectorySource> logger) : IHostedService, IDisposable
{
    private readonly Lock _gate = new();
    private FileSystemWatcher? _watcher;
    private Timer? _debounce;

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
            if (!Directory.Exists(directory))
            {
                LogMissing(logger, directory);
            }
            else
            {
                foreach (var file in Directory.EnumerateFiles(directory).Where(IsWorkflowFile).Order(StringComparer.Ordinal))
                {
                    try
                    {
                        workflows.AddRange(ReadFile(file));
                    }
                    catch (Exception ex) when (ex is IOException or YamlDotNet.Core.YamlException or System.Text.Json.JsonException or InvalidOperationException)
                    {
                        LogBadFile(logger, file, ex.Message);
                    }
                }
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

    private void Schedule() => _debounce?.Change(TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Loaded {Count} workflows from {Directory}")]
    private static partial void LogLoaded(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "Workflow file {File} skipped: {Error}")]
    private static partial void LogBadFile(ILogger logger, string file, string error);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Workflows directory {Directory} does not exist")]
    private static partial void LogMissing(ILogger logger, string directory);
}
