using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Models;

/// <summary>
/// Puts declared model files into the shared cache (the <c>sync-models</c> init container):
/// downloads into <c>&lt;file&gt;.part</c> with HTTP Range resume, checks the SHA-256, then renames
/// atomically into place. A <c>&lt;file&gt;.lock</c> created with CreateNew (atomic on local and NFS
/// volumes) makes sure two pods never download the same file at once; the holder touches it as a
/// heartbeat and a lock left by a dead pod is taken over once stale.
/// </summary>
internal sealed class ModelSynchronizer(HttpClient http, ModelSyncOptions options, TimeProvider time, TextWriter log)
{
    private const int BufferSize = 1 << 20;

    /// <summary>Syncs every file; never throws for a single file's failure (see the results).</summary>
    public async Task<IReadOnlyList<ModelSyncResult>> SyncAsync(IReadOnlyList<ModelFile> models, string cacheRoot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(models);
        var results = new List<ModelSyncResult>();
        foreach (var model in models)
        {
            var relative = $"{model.Folder}/{model.Filename}";
            try
            {
                results.Add(await SyncOneAsync(model, cacheRoot, cancellationToken));
            }
            catch (ModelSyncException e)
            {
                await log.WriteLineAsync($"FAILED {relative}: {e.Message}");
                results.Add(new ModelSyncResult(relative, ModelSyncOutcome.Failed, 0, e.Message));
            }
        }

        return results;
    }

    /// <summary>The file's path in the cache; rejects names that would land outside it.</summary>
    public static string ResolvePath(string cacheRoot, ModelFile model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var relative = $"{model.Folder}/{model.Filename}";
        if (string.IsNullOrWhiteSpace(model.Folder) || string.IsNullOrWhiteSpace(model.Filename) ||
            Path.IsPathRooted(model.Filename) || model.Filename.Split('/', '\\').Any(part => part is ".." or "." or "") ||
            model.Folder.Contains('/', StringComparison.Ordinal) || model.Folder.Contains('\\', StringComparison.Ordinal) || model.Folder is "." or "..")
        {
            throw new ModelSyncException($"{relative}: folder and filename must stay inside the cache (no '..', no absolute path).");
        }

        var root = Path.GetFullPath(cacheRoot);
        var full = Path.GetFullPath(Path.Combine(root, model.Folder, model.Filename));
        return full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? full
            : throw new ModelSyncException($"{relative}: resolves outside the cache.");
    }

    private async Task<ModelSyncResult> SyncOneAsync(ModelFile model, string cacheRoot, CancellationToken cancellationToken)
    {
        var relative = $"{model.Folder}/{model.Filename}";
        var target = ResolvePath(cacheRoot, model);
        if (await IsPresentAsync(target, model, cancellationToken))
        {
            await log.WriteLineAsync($"present {relative}");
            return new ModelSyncResult(relative, ModelSyncOutcome.Present, new FileInfo(target).Length);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await using var fileLock = await AcquireLockAsync(target + ".lock", relative, cancellationToken);
        if (await IsPresentAsync(target, model, cancellationToken))
        {
            await log.WriteLineAsync($"present {relative} (downloaded by another pod)");
            return new ModelSyncResult(relative, fileLock.Waited ? ModelSyncOutcome.DownloadedByPeer : ModelSyncOutcome.Present, new FileInfo(target).Length);
        }

        var bytes = await DownloadAsync(model, target, relative, cancellationToken);
        return new ModelSyncResult(relative, ModelSyncOutcome.Downloaded, bytes);
    }

    /// <summary>
    /// True when the file is there and, if a hash is declared, matches it. A verified hash is remembered
    /// in <c>&lt;file&gt;.sha256</c> (with the size) so a pod restart does not re-read gigabytes.
    /// </summary>
    private static async Task<bool> IsPresentAsync(string target, ModelFile model, CancellationToken cancellationToken)
    {
        if (!File.Exists(target))
        {
            return false;
        }

        if (model.Sha256 is null)
        {
            return true;
        }

        var length = new FileInfo(target).Length;
        var marker = target + ".sha256";
        if (File.Exists(marker))
        {
            var text = (await File.ReadAllTextAsync(marker, cancellationToken)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (text.Length == 2 && text[0] == model.Sha256 && text[1] == length.ToString(CultureInfo.InvariantCulture))
            {
                return true;
            }
        }

        var actual = await HashAsync(target, cancellationToken);
        if (!string.Equals(actual, model.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        await File.WriteAllTextAsync(marker, $"{actual} {length}", cancellationToken);
        return true;
    }

    private async Task<long> DownloadAsync(ModelFile model, string target, string relative, CancellationToken cancellationToken)
    {
        var part = target + ".part";
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await DownloadAttemptAsync(model.Url, part, relative, cancellationToken);
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= options.Attempts)
                {
                    throw new ModelSyncException($"download of {model.Url} failed after {attempt} attempts: {e.Message}", e);
                }

                var kept = File.Exists(part) ? new FileInfo(part).Length : 0;
                await log.WriteLineAsync($"retry {relative} (attempt {attempt + 1}/{options.Attempts}, resuming at byte {kept}): {e.Message}");
                await Task.Delay(delay, time, cancellationToken);
                delay *= 2;
            }
        }

        var hash = await HashAsync(part, cancellationToken);
        if (model.Sha256 is not null && !string.Equals(hash, model.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(part);
            throw new ModelSyncException($"sha256 mismatch for {model.Url}: expected {model.Sha256}, got {hash}; the download was discarded.");
        }

        var length = new FileInfo(part).Length;
        File.Move(part, target, overwrite: true);
        await File.WriteAllTextAsync(target + ".sha256", $"{hash} {length}", cancellationToken);
        await log.WriteLineAsync($"downloaded {relative} ({length} bytes, sha256 {hash})");
        return length;
    }

    private async Task DownloadAttemptAsync(string url, string part, string relative, CancellationToken cancellationToken)
    {
        var existing = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0)
        {
            request.Headers.Range = new RangeHeaderValue(existing, null);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0 &&
            response.Content.Headers.ContentRange?.Length == existing)
        {
            // The previous attempt got every byte and only missed the rename.
            return;
        }

        if (!response.IsSuccessStatusCode)
        {
            var message = $"download of {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            var transient = (int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;
            throw transient ? new HttpRequestException(message) : new ModelSyncException(message);
        }

        var resumed = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed && existing > 0)
        {
            await log.WriteLineAsync($"server ignored the range request for {relative}; starting over");
            existing = 0;
        }

        var expected = response.Content.Headers.ContentLength is { } length ? existing + length : (long?)null;
        await log.WriteLineAsync(resumed ? $"resuming {relative} at byte {existing}" : $"downloading {relative} from {url}");
        await using var file = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[BufferSize];
        var written = existing;
        while (true)
        {
            int read;
            using (var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                readTimeout.CancelAfter(options.ReadTimeout);
                try
                {
                    read = await body.ReadAsync(buffer, readTimeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data for {options.ReadTimeout.TotalSeconds:0}s after {written} bytes");
                }
            }

            if (read == 0)
            {
                break;
            }

            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            written += read;
        }

        if (expected is { } total && written != total)
        {
            throw new IOException($"connection closed after {written} of {total} bytes");
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    private async Task<ModelFileLock> AcquireLockAsync(string lockPath, string relative, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var waited = false;
        var vanished = 0;
        while (true)
        {
            try
            {
                var stream = new FileStream(lockPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                var owner = $"{Environment.MachineName} {Environment.ProcessId}";
                await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(owner), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                return new ModelFileLock(lockPath, stream, options.LockHeartbeat, time, waited);
            }
            catch (IOException) when (!File.Exists(lockPath) && ++vanished < 100)
            {
                // The holder released it between our CreateNew and this check: try again at once.
                continue;
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                var age = time.GetUtcNow() - File.GetLastWriteTimeUtc(lockPath);
                if (age > options.StaleLockAfter)
                {
                    await log.WriteLineAsync($"taking over a stale lock on {relative} (untouched for {age.TotalSeconds:0}s)");
                    TryDelete(lockPath);
                    continue;
                }

                if (!waited)
                {
                    await log.WriteLineAsync($"waiting: another pod is downloading {relative}");
                    waited = true;
                }

                if (time.GetElapsedTime(started) > options.LockWaitLimit)
                {
                    throw new ModelSyncException($"gave up waiting {options.LockWaitLimit.TotalMinutes:0} min for another pod's download of {relative} (lock {lockPath}).");
                }

                await Task.Delay(options.LockHeartbeat, time, cancellationToken);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Someone else removed or re-took it; the next CreateNew decides.
        }
    }
}
