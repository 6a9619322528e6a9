using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Inputs;

/// <summary>
/// Content-addressed input files (<c>&lt;sha256&gt;.&lt;ext&gt;</c>) with an index of its own
/// (size, last use, pins) persisted as <c>index.json</c> (atomic write) and rebuilt from the files
/// when lost. LRU by bytes; pinned files (used by a queued or running run) are never evicted.
/// Concurrent requests for one URL share one download; partial files never become visible.
/// </summary>
internal sealed partial class InputCache : IDisposable
{
    public const string IndexFileName = "index.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private readonly InputCacheOptions _options;
    private readonly SafeHttpDownloader _downloader;
    private readonly TimeProvider _time;
    private readonly ILogger<InputCache> _logger;
    private readonly string _directory;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<CachedInput>>> _inFlight = new(StringComparer.Ordinal);
    private CacheIndexFile _index = new();
    private long _usedBytes;
    private long _downloads;

    /// <summary>Last-use times and pin counts changed since the index was written (files did not: those are written at once).</summary>
    private bool _dirty;
    private ITimer? _flush;
    private bool _flushScheduled;

    public InputCache(InputCacheOptions options, SafeHttpDownloader downloader, TimeProvider time, ILogger<InputCache> logger)
    {
        _options = options;
        _downloader = downloader;
        _time = time;
        _logger = logger;
        _directory = Path.GetFullPath(options.CacheDirectory);
        Directory.CreateDirectory(_directory);
        Load();
    }

    public string CacheDirectory => _directory;

    /// <summary>Downloads started by this instance (single-flight makes concurrent requests count once).</summary>
    public long Downloads => Interlocked.Read(ref _downloads);

    public string IndexPath => Path.Combine(_directory, IndexFileName);

    /// <summary>Bytes held now.</summary>
    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    /// <summary>Raised (under the cache's lock: keep it quick) for every evicted file.</summary>
    public event EventHandler<string>? Evicted;

    /// <summary>
    /// Returns the cached file for <paramref name="url"/>, downloading it once if needed. With
    /// <paramref name="pin"/> the file is pinned atomically with being handed out; call <see cref="Unpin"/> when the run is done.
    /// </summary>
    public async Task<CachedInput> GetOrDownloadAsync(
        string inputName, string url, InputKind kind, string? sha256, bool pin, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new InputRefusedException(inputName, "not an absolute URL");
        }

        if (uri.Scheme == "data")
        {
            return await PutDataUriAsync(inputName, url, kind, sha256, pin, cancellationToken);
        }

        var expected = NormalizeSha(inputName, sha256);
        if (TryHit(url, expected, pin) is { } hit)
        {
            return hit;
        }

        // The shared download runs on its own clock (the downloader's timeout) so one caller giving up
        // does not fail the others; each caller waits with its own token.
        var lazy = _inFlight.GetOrAdd(url, key => new Lazy<Task<CachedInput>>(() => DownloadSharedAsync(inputName, key, uri, kind, expected)));
        _ = lazy.Value.ContinueWith(
            _ => _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<CachedInput>>>(url, lazy)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        var downloaded = await lazy.Value.WaitAsync(cancellationToken);

        if (expected is not null && !string.Equals(expected, downloaded.Sha256, StringComparison.Ordinal))
        {
            throw new InputRefusedException(inputName, $"sha256 mismatch: expected {expected}, got {downloaded.Sha256}");
        }

        return Touch(downloaded.FileName, pin, downloaded.Downloaded)
            ?? throw new InputRefusedException(inputName, "the downloaded file was evicted before it could be used");
    }

    /// <summary>Stores an uploaded stream (or decoded data URI) through the same path as downloads.</summary>
    public async Task<CachedInput> PutAsync(
        string inputName, Stream content, string? extension, string? sha256, bool pin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var expected = NormalizeSha(inputName, sha256);
        var temporary = TemporaryPath();
        try
        {
            string digest;
            long size;
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                using var hashing = new HashingStream(file);
                size = await BoundedCopy.CopyAsync(inputName, "the file", content, hashing, MaxFileBytes, cancellationToken);
                digest = hashing.HexDigest();
            }

            return Commit(inputName, temporary, size, digest, SafeExtension(extension), expected, url: null, pin, downloaded: false);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    public bool Unpin(string fileName)
    {
        lock (_lock)
        {
            if (!_index.Entries.TryGetValue(fileName, out var entry) || entry.Pins == 0)
            {
                return false;
            }

            entry.Pins--;
            if (EvictLocked())
            {
                SaveLocked();
            }
            else
            {
                MarkDirtyLocked();
            }

            return true;
        }
    }

    public bool Pin(string fileName)
    {
        lock (_lock)
        {
            if (!_index.Entries.TryGetValue(fileName, out var entry))
            {
                return false;
            }

            entry.Pins++;
            MarkDirtyLocked();
            return true;
        }
    }

    /// <summary>
    /// After a restart: the persisted pin counts may be stale (a run finished between a pin and the
    /// index write), so every pin is dropped and exactly <paramref name="fileNames"/> are pinned again
    /// (once per occurrence: one per unfinished run that uses the file).
    /// </summary>
    public void RestorePins(IEnumerable<string> fileNames)
    {
        lock (_lock)
        {
            foreach (var entry in _index.Entries.Values)
            {
                entry.Pins = 0;
            }

            foreach (var name in fileNames)
            {
                if (_index.Entries.TryGetValue(name, out var entry))
                {
                    entry.Pins++;
                }
            }

            EvictLocked();
            SaveLocked();
        }
    }

    /// <summary>The full path of a cached file, or null when the cache does not hold it.</summary>
    public string? PathOf(string fileName)
    {
        lock (_lock)
        {
            return _index.Entries.ContainsKey(fileName) ? Path.Combine(_directory, fileName) : null;
        }
    }

    public CacheUsage Usage()
    {
        lock (_lock)
        {
            var entries = _index.Entries
                .OrderByDescending(pair => pair.Value.LastUse)
                .Select(pair => new CacheUsageEntry(pair.Key, pair.Value.Size, pair.Value.LastUse, pair.Value.Pins))
                .ToList();
            return new CacheUsage(_usedBytes, _options.MaxCacheBytes, entries.Count, entries.Count(e => e.Pins > 0), entries);
        }
    }

    private long MaxFileBytes => Math.Min(_options.MaxDownloadBytes, _options.MaxCacheBytes);

    private async Task<CachedInput> PutDataUriAsync(
        string inputName, string url, InputKind kind, string? sha256, bool pin, CancellationToken cancellationToken)
    {
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            throw new InputRefusedException(inputName, "malformed data URI");
        }

        var header = url[5..comma];
        if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            throw new InputRefusedException(inputName, "data URIs must be base64-encoded");
        }

        var mediaType = header[..^7];
        if (!SafeHttpDownloader.ContentTypeAllowed(mediaType, _options.ContentTypesFor(kind)))
        {
            throw new InputRefusedException(inputName, $"content type '{mediaType}' is not accepted for a {kind.ToString().ToUpperInvariant()} input");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(url[(comma + 1)..]);
        }
        catch (FormatException exception)
        {
            throw new InputRefusedException(inputName, "the data URI is not valid base64", exception);
        }

        using var stream = new MemoryStream(bytes, writable: false);
        return await PutAsync(inputName, stream, ExtensionFor(null, mediaType), sha256, pin, cancellationToken);
    }

    private async Task<CachedInput> DownloadSharedAsync(string inputName, string url, Uri uri, InputKind kind, string? expected)
    {
        await Task.Yield();
        Interlocked.Increment(ref _downloads);
        var temporary = TemporaryPath();
        try
        {
            DownloadResult result;
            string digest;
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                using var hashing = new HashingStream(file);
                result = await _downloader.DownloadAsync(inputName, uri, kind, MaxFileBytes, hashing, CancellationToken.None);
                digest = hashing.HexDigest();
            }

            var shownUrl = uri.GetLeftPart(UriPartial.Path);
            LogDownloaded(shownUrl, result.Bytes, digest);

            return Commit(inputName, temporary, result.Bytes, digest, ExtensionFor(uri, result.ContentType), expected, url, pin: false, downloaded: true);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    private CachedInput Commit(
        string inputName, string temporary, long size, string digest, string extension, string? expected, string? url, bool pin, bool downloaded)
    {
        if (size > _options.MaxCacheBytes)
        {
            throw new InputRefusedException(inputName, $"the file is {size} bytes, larger than the whole cache ({_options.MaxCacheBytes} bytes)");
        }

        if (expected is not null && !string.Equals(expected, digest, StringComparison.Ordinal))
        {
            throw new InputRefusedException(inputName, $"sha256 mismatch: expected {expected}, got {digest}");
        }

        var fileName = digest + extension;
        var path = Path.Combine(_directory, fileName);
        lock (_lock)
        {
            if (!_index.Entries.TryGetValue(fileName, out var entry))
            {
                // Atomic rename: the final name appears only with every byte in place.
                File.Move(temporary, path, overwrite: true);
                entry = new CacheEntry { Size = size };
                _index.Entries[fileName] = entry;
                _usedBytes += size;
            }

            entry.LastUse = _time.GetUtcNow();
            if (pin)
            {
                entry.Pins++;
            }

            if (url is not null)
            {
                _index.Urls[url] = fileName;
            }

            // The new file is the most recently used, so it is the last candidate for eviction.
            entry.Pins++;
            EvictLocked();
            entry.Pins--;
            SaveLocked();
            return new CachedInput(fileName, path, size, digest, downloaded);
        }
    }

    private CachedInput? TryHit(string url, string? expected, bool pin)
    {
        lock (_lock)
        {
            if (!_index.Urls.TryGetValue(url, out var fileName) || !_index.Entries.ContainsKey(fileName))
            {
                return null;
            }

            if (expected is not null && !fileName.StartsWith(expected, StringComparison.Ordinal))
            {
                return null;
            }

            return TouchLocked(fileName, pin, downloaded: false);
        }
    }

    private CachedInput? Touch(string fileName, bool pin, bool downloaded)
    {
        lock (_lock)
        {
            return TouchLocked(fileName, pin, downloaded);
        }
    }

    private CachedInput? TouchLocked(string fileName, bool pin, bool downloaded)
    {
        if (!_index.Entries.TryGetValue(fileName, out var entry))
        {
            return null;
        }

        var path = Path.Combine(_directory, fileName);
        if (!File.Exists(path))
        {
            _usedBytes -= entry.Size;
            _index.Entries.Remove(fileName);
            SaveLocked();
            return null;
        }

        entry.LastUse = _time.GetUtcNow();
        if (pin)
        {
            entry.Pins++;
        }

        // A hit only moves the last-use time: written with the next flush, not on every hit.
        MarkDirtyLocked();
        return new CachedInput(fileName, path, entry.Size, fileName[..64], downloaded);
    }

    /// <summary>Frees least recently used unpinned files until under the limit; true when any file went.</summary>
    private bool EvictLocked()
    {
        var evicted = false;
        while (_usedBytes > _options.MaxCacheBytes)
        {
            var victim = _index.Entries
                .Where(pair => pair.Value.Pins == 0)
                .OrderBy(pair => pair.Value.LastUse)
                .ThenBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => pair.Key)
                .FirstOrDefault();
            if (victim is null)
            {
                LogOverLimit(_usedBytes, _options.MaxCacheBytes);
                return evicted;
            }

            var entry = _index.Entries[victim];
            TryDelete(Path.Combine(_directory, victim));
            _index.Entries.Remove(victim);
            _usedBytes -= entry.Size;
            foreach (var url in _index.Urls.Where(pair => pair.Value == victim).Select(pair => pair.Key).ToList())
            {
                _index.Urls.Remove(url);
            }

            LogEvicted(victim, entry.Size);
            Evicted?.Invoke(this, victim);
            evicted = true;
        }

        return evicted;
    }

    private void Load()
    {
        CacheIndexFile? loaded = null;
        if (File.Exists(IndexPath))
        {
            try
            {
                loaded = JsonSerializer.Deserialize<CacheIndexFile>(File.ReadAllText(IndexPath), Json);
            }
            catch (JsonException exception)
            {
                LogIndexUnreadable(exception);
            }
        }

        var index = loaded ?? new CacheIndexFile();
        index.Entries = new Dictionary<string, CacheEntry>(index.Entries ?? [], StringComparer.Ordinal);
        index.Urls = new Dictionary<string, string>(index.Urls ?? [], StringComparer.Ordinal);

        // Reconcile with the disk: the files are the truth, the index adds last use and pins.
        var onDisk = new Dictionary<string, FileInfo>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(_directory).EnumerateFiles())
        {
            if (file.Name.EndsWith(".partial", StringComparison.Ordinal))
            {
                TryDelete(file.FullName);
            }
            else if (CacheFileName().IsMatch(file.Name))
            {
                onDisk[file.Name] = file;
            }
        }

        foreach (var name in index.Entries.Keys.Where(name => !onDisk.ContainsKey(name)).ToList())
        {
            index.Entries.Remove(name);
        }

        foreach (var (name, file) in onDisk)
        {
            if (!index.Entries.TryGetValue(name, out var entry))
            {
                index.Entries[name] = new CacheEntry { Size = file.Length, LastUse = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero) };
            }
            else
            {
                entry.Size = file.Length;
            }
        }

        foreach (var url in index.Urls.Where(pair => !index.Entries.ContainsKey(pair.Value)).Select(pair => pair.Key).ToList())
        {
            index.Urls.Remove(url);
        }

        lock (_lock)
        {
            _index = index;
            _usedBytes = index.Entries.Values.Sum(entry => entry.Size);
            if (loaded is null && onDisk.Count > 0)
            {
                LogIndexRebuilt(onDisk.Count);
            }

            EvictLocked();
            SaveLocked();
        }
    }

    /// <summary>Writes pending last-use and pin changes now (also done by a timer and on dispose).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (_dirty)
            {
                SaveLocked();
            }
        }
    }

    private void FlushQuietly()
    {
        try
        {
            Flush();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The next change (or the next start, which rebuilds from disk) writes it again.
            LogIndexFlushFailed(ex.Message);
        }
    }

    public void Dispose()
    {
        FlushQuietly();
        lock (_lock)
        {
            _flush?.Dispose();
            _flush = null;
        }
    }

    private void MarkDirtyLocked()
    {
        _dirty = true;
        if (_options.IndexFlushInterval <= TimeSpan.Zero)
        {
            SaveLocked();
            return;
        }

        // One flush per interval however many hits come in; a crash loses at most that much last-use history.
        _flush ??= _time.CreateTimer(_ => FlushQuietly(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            _flush.Change(_options.IndexFlushInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private void SaveLocked()
    {
        _dirty = false;
        _flushScheduled = false;
        var temporary = IndexPath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_index, Json));
        File.Move(temporary, IndexPath, overwrite: true);
    }

    private string TemporaryPath() => Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".partial");

    private static string? NormalizeSha(string inputName, string? sha256)
    {
        if (string.IsNullOrWhiteSpace(sha256))
        {
            return null;
        }

        var value = sha256.Trim().ToLowerInvariant();
        if (value.Length != 64 || !value.All(char.IsAsciiHexDigit))
        {
            throw new InputRefusedException(inputName, "sha256 must be 64 hex digits");
        }

        return value;
    }

    internal static string ExtensionFor(Uri? url, string? contentType)
    {
        var fromPath = url is null ? null : Path.GetExtension(url.AbsolutePath);
        if (!string.IsNullOrEmpty(fromPath) && SafeExtension(fromPath) is { Length: > 0 } safe && safe != ".bin")
        {
            return safe;
        }

        return (contentType ?? string.Empty).Trim().ToUpperInvariant() switch
        {
            "IMAGE/PNG" => ".png",
            "IMAGE/JPEG" or "IMAGE/JPG" => ".jpg",
            "IMAGE/WEBP" => ".webp",
            "IMAGE/GIF" => ".gif",
            "VIDEO/MP4" => ".mp4",
            "VIDEO/WEBM" => ".webm",
            "AUDIO/WAV" or "AUDIO/X-WAV" => ".wav",
            "AUDIO/MPEG" => ".mp3",
            "APPLICATION/JSON" => ".json",
            _ => ".bin",
        };
    }

    internal static string SafeExtension(string? extension)
    {
        if (string.IsNullOrEmpty(extension))
        {
            return ".bin";
        }

        var text = extension.TrimStart('.').ToLowerInvariant();
        return text.Length is > 0 and <= 16 && text.All(char.IsAsciiLetterOrDigit) ? "." + text : ".bin";
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is removed on the next start.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    [GeneratedRegex("^[0-9a-f]{64}(\\.[a-z0-9]{1,16})?$")]
    private static partial Regex CacheFileName();

    [LoggerMessage(EventId = EventIds.InputCacheDownloaded, Level = LogLevel.Information, Message = "Downloaded {Url} ({Bytes} bytes) into the input cache as {Sha256}")]
    private partial void LogDownloaded(string url, long bytes, string sha256);

    [LoggerMessage(EventId = EventIds.InputCacheEvicted, Level = LogLevel.Information, Message = "Evicted {FileName} ({Bytes} bytes) from the input cache")]
    private partial void LogEvicted(string fileName, long bytes);

    [LoggerMessage(EventId = EventIds.InputCacheOverLimit, Level = LogLevel.Warning, Message = "Input cache holds {Used} bytes above its limit of {Max} bytes, but every file is pinned")]
    private partial void LogOverLimit(long used, long max);

    [LoggerMessage(EventId = EventIds.InputCacheIndexUnreadable, Level = LogLevel.Warning, Message = "Input cache index unreadable; rebuilding it from the files")]
    private partial void LogIndexUnreadable(Exception exception);

    [LoggerMessage(EventId = EventIds.InputCacheIndexRebuilt, Level = LogLevel.Warning, Message = "Input cache index rebuilt from {Files} files on disk")]
    private partial void LogIndexRebuilt(int files);

    [LoggerMessage(EventId = EventIds.InputCacheIndexFlushFailed, Level = LogLevel.Warning, Message = "Could not write the input cache index: {Reason}")]
    private partial void LogIndexFlushFailed(string reason);
}
