using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Workers from configuration (<c>Router:Nodes</c> / <c>COMFY_ROUTER__NODES</c>) plus an optional
/// servers file that is watched and re-read when it changes. A bad file on reload is logged and the
/// previous list stays (start-up validation already refused a bad file at start).
/// </summary>
internal sealed partial class StaticNodeSource : INodeSource, IDisposable
{
    private readonly ILogger<StaticNodeSource> _logger;
    private readonly IReadOnlyList<NodeEndpoint> _configured;
    private readonly string? _filePath;
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer? _debounce;
    private readonly Lock _gate = new();
    private IReadOnlyList<NodeEndpoint> _fromFile = [];
    private IReadOnlyList<NodeEndpoint> _current = [];

    /// <summary>
    /// Editors and <c>File.WriteAllText</c> truncate before they write, so the watcher sees an empty
    /// file first; reloading only after the changes settle avoids swapping in that empty list.
    /// </summary>
    public static readonly TimeSpan ReloadDelay = TimeSpan.FromMilliseconds(250);

    public StaticNodeSource(IOptions<RouterOptions> options, ILogger<StaticNodeSource> logger, TimeProvider time)
    {
        _logger = logger;
        _configured = [.. NodeAddressParser.ParseEntries(options.Value.Nodes).Select(uri => new NodeEndpoint(uri, "config"))];
        if (!string.IsNullOrEmpty(options.Value.ServersFile))
        {
            _filePath = Path.GetFullPath(NodeAddressParser.ToFilePath(options.Value.ServersFile));
            _fromFile = ReadFile(_filePath);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_filePath)!, Path.GetFileName(_filePath))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _debounce = time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _watcher.Changed += (_, _) => ReloadSoon();
            _watcher.Created += (_, _) => ReloadSoon();
            _watcher.Renamed += (_, _) => ReloadSoon();
            _watcher.EnableRaisingEvents = true;
        }

        _current = Merge();
    }

    public IReadOnlyList<NodeEndpoint> Current => Volatile.Read(ref _current);

    public event EventHandler? Changed;

    /// <summary>Re-reads the servers file now (the watcher calls this; tests may too).</summary>
    public void Reload()
    {
        if (_filePath is null)
        {
            return;
        }

        bool changed;
        lock (_gate)
        {
            List<NodeEndpoint> fromFile;
            try
            {
                fromFile = ReadFile(_filePath);
            }
            catch (NodeAddressException ex)
            {
                LogReloadFailed(_logger, _filePath, ex.Message);
                return;
            }
            catch (IOException ex)
            {
                // Editors write in several steps; the next change event brings the complete file.
                LogReloadFailed(_logger, _filePath, ex.Message);
                return;
            }

            changed = !fromFile.SequenceEqual(_fromFile);
            if (changed)
            {
                _fromFile = fromFile;
                Volatile.Write(ref _current, Merge());
                LogReloaded(_logger, _filePath, fromFile.Count);
            }
        }

        if (changed)
        {
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
    }

    private void ReloadSoon() => _debounce?.Change(ReloadDelay, Timeout.InfiniteTimeSpan);

    private static List<NodeEndpoint> ReadFile(string path) =>
        [.. NodeAddressParser.ParseFile(path, File.ReadAllText(path)).Select(uri => new NodeEndpoint(uri, "file"))];

    private List<NodeEndpoint> Merge()
    {
        var seen = new HashSet<Uri>();
        return [.. _configured.Concat(_fromFile).Where(node => seen.Add(node.BaseAddress))];
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Servers file {Path} reloaded: {Count} nodes")]
    private static partial void LogReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Error, Message = "Servers file {Path} could not be reloaded, keeping the previous node list: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string error);
}
