using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Workers from configuration (<c>Router:Nodes</c> / <c>COMFY_ROUTER__NODES</c>) plus an optional
/// servers file that is watched and re-read when it changes. A bad file on reload is logged and the
/// previous list stays (start-up validation already refused a bad file at start).
/// A Kubernetes ConfigMap or Secret volume never writes the file itself: it writes a new timestamped
/// directory and swaps the <c>..data</c> symlink the file points through, which a watcher filtered on
/// the file's name does not see. So the watcher also reacts to <c>..data</c>, and the file is polled
/// every <c>Router:ServersFilePollInterval</c> as a fallback for mounts where no event arrives at all.
/// </summary>
internal sealed partial class StaticNodeSource : INodeSource, IDisposable
{
    private readonly ILogger<StaticNodeSource> _logger;
    private readonly IReadOnlyList<NodeEndpoint> _configured;
    private readonly string? _filePath;
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer? _debounce;
    private readonly ITimer? _poll;
    private readonly Lock _gate = new();
    private IReadOnlyList<NodeEndpoint> _fromFile = [];
    private IReadOnlyList<NodeEndpoint> _current = [];

    /// <summary>The text last read from the servers file (good or bad), so polling re-parses and logs only on a change.</summary>
    private string? _lastText;

    /// <summary>The last read found the file empty; the next read that finds it empty too believes it.</summary>
    private bool _emptySeen;

    private const string KubernetesDataLink = "..data";

    /// <summary>
    /// Editors and <c>File.WriteAllText</c> truncate before they write, so the watcher sees an empty
    /// file first; reloading only after the changes settle avoids swapping in that empty list.
    /// </summary>
    public static readonly TimeSpan ReloadDelay = TimeSpan.FromMilliseconds(250);

    public StaticNodeSource(IOptions<RouterOptions> options, ILogger<StaticNodeSource> logger, TimeProvider time)
    {
        _logger = logger;
        _configured = [.. NodeAddressParser.ParseEntries(options.Value.Nodes).Select(uri => new NodeEndpoint(uri, NodeSources.Config))];
        if (!string.IsNullOrEmpty(options.Value.ServersFile))
        {
            _filePath = Path.GetFullPath(NodeAddressParser.ToFilePath(options.Value.ServersFile));
            _lastText = File.ReadAllText(_filePath);
            _fromFile = Parse(_filePath, _lastText);
            var name = Path.GetFileName(_filePath);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_filePath)!)
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _debounce = time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            FileSystemEventHandler onEvent = (_, e) => ReloadSoonIfRelevant(e.Name, name);
            _watcher.Changed += onEvent;
            _watcher.Created += onEvent;
            _watcher.Renamed += (_, e) => ReloadSoonIfRelevant(e.Name, name);
            _watcher.EnableRaisingEvents = true;
            var poll = options.Value.ServersFilePollInterval;
            _poll = time.CreateTimer(_ => ReloadIfTextChanged(), null, poll, poll);
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
                var text = File.ReadAllText(_filePath);
                if (text.Length == 0 && !_emptySeen)
                {
                    // Truncated by a writer that has not written yet (File.WriteAllText, editors): an
                    // empty file is believed only when it is still empty a moment later.
                    _emptySeen = true;
                    _debounce?.Change(ReloadDelay, Timeout.InfiniteTimeSpan);
                    return;
                }

                _emptySeen = false;
                _lastText = text;
                fromFile = Parse(_filePath, text);
            }
            catch (NodeAddressException ex)
            {
                LogReloadFailed(_logger, _filePath, ex.Message);
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Editors write in several steps, and a volume swap can leave the link dangling for a
                // moment; the next change event or poll brings the complete file.
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
        _poll?.Dispose();
    }

    private void ReloadSoonIfRelevant(string? changed, string fileName)
    {
        if (string.Equals(changed, fileName, StringComparison.Ordinal) || string.Equals(changed, KubernetesDataLink, StringComparison.Ordinal))
        {
            _debounce?.Change(ReloadDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The polling fallback: reloads only when the file's text differs from what was read last.</summary>
    private void ReloadIfTextChanged()
    {
        string text;
        try
        {
            text = File.ReadAllText(_filePath!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Missing for a moment (a swap under way); the next poll looks again.
            return;
        }

        if (!string.Equals(text, Volatile.Read(ref _lastText), StringComparison.Ordinal))
        {
            Reload();
        }
    }

    private static List<NodeEndpoint> Parse(string path, string text) =>
        [.. NodeAddressParser.ParseFile(path, text).Select(uri => new NodeEndpoint(uri, NodeSources.File))];

    private List<NodeEndpoint> Merge()
    {
        var seen = new HashSet<Uri>();
        return [.. _configured.Concat(_fromFile).Where(node => seen.Add(node.BaseAddress))];
    }

    [LoggerMessage(EventId = EventIds.StaticNodeSourceReloaded, Level = LogLevel.Information, Message = "Servers file {Path} reloaded: {Count} nodes")]
    private static partial void LogReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = EventIds.StaticNodeSourceReloadFailed, Level = LogLevel.Error, Message = "Servers file {Path} could not be reloaded, keeping the previous node list: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string error);
}
