using System.Globalization;
using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace ComfyOperator.Router.Outputs;

/// <summary>
/// Outputs as files in 256 shared folders: <c>&lt;OutputDirectory&gt;/@&lt;shard&gt;/&lt;run id&gt;+&lt;output&gt;+&lt;file&gt;</c>
/// for an output name <c>&lt;output&gt;/&lt;file&gt;</c>, where the shard is two hex digits of a hash of the run id ('@' and
/// '+' are outside the names' alphabet, so no two names meet, and no shard folder is a folder of a run stored before). No folder is made per run: a new folder costs the file system
/// far more than a new file (on ext4 a mkdir per run was 12 % of the router's CPU per run). Outputs stored before as
/// <c>&lt;run id&gt;/&lt;output&gt;+&lt;file&gt;</c> or <c>&lt;run id&gt;/&lt;output&gt;/&lt;file&gt;</c> are still read and deleted.
/// </summary>
internal sealed class LocalDirectoryOutputStore : IOutputStore
{
    private readonly string _root;

    public LocalDirectoryOutputStore(IOptions<RouterOptions> options)
        : this(options.Value.ResolvedOutputDirectory)
    {
    }

    public LocalDirectoryOutputStore(string root)
    {
        _root = Path.GetFullPath(root);
    }

    /// <summary>The folder of <paramref name="runId"/>'s outputs in the output directory: '@' and two hex digits of its 32-bit FNV-1a hash, its bytes XORed.</summary>
    public static string FolderOf(string runId) => "@" + ShardOf(runId).ToString("x2", CultureInfo.InvariantCulture);

    private static int ShardOf(string runId)
    {
        var hash = 2166136261u;
        foreach (var c in runId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)((hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24)) & 0xFF);
    }

    public async Task<long> SaveAsync(string runId, string name, Stream content, CancellationToken cancellationToken)
    {
        var path = PathOf(runId, name);
        var temporary = path + ".partial";

        // Unbuffered and synchronous (SynchronousFileWriter): CopyToAsync writes from the content's own
        // buffer, or pooled chunks, straight into the file, on the thread that read them.
        long length;
        try
        {
            using var handle = Create(temporary);
            using var file = new SynchronousFileWriter(handle);
            await content.CopyToAsync(file, cancellationToken);
            length = file.Position;
        }
        catch
        {
            // Cancelled or failed half way: no partial file is left behind.
            File.Delete(temporary);
            throw;
        }

        // Readers never see half a file: the name appears only once the bytes are all there.
        File.Move(temporary, path, overwrite: true);
        return length;
    }

    public Task<Stream?> OpenAsync(string runId, string name, CancellationToken cancellationToken)
    {
        if (!OutputNames.IsSafe(runId) || !OutputNames.IsSafePath(name))
        {
            return Task.FromResult<Stream?>(null);
        }

        var path = PathsOf(runId, name).FirstOrDefault(File.Exists);
        return Task.FromResult<Stream?>(path is null
            ? null
            : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true));
    }

    public Task DeleteAsync(string runId, string name, CancellationToken cancellationToken)
    {
        foreach (var path in PathsOf(runId, name))
        {
            DeleteFile(path);
        }

        return Task.CompletedTask;
    }

    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        if (!OutputNames.IsSafe(runId))
        {
            return Task.CompletedTask;
        }

        foreach (var file in StoredFiles(_root, runId))
        {
            DeleteFile(file);
        }

        var legacy = Path.Combine(_root, runId);
        if (Directory.Exists(legacy))
        {
            Directory.Delete(legacy, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The files stored for <paramref name="runId"/> under <paramref name="root"/> (finished or partial): those named
    /// "&lt;run id&gt;+…" in its shard's folder, which holds about 1/256 of the stored runs' files.
    /// </summary>
    public static IEnumerable<string> StoredFiles(string root, string runId)
    {
        var folder = Path.Combine(root, FolderOf(runId));
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder, runId + "+*") : [];
    }

    /// <summary>
    /// Creates <paramref name="path"/>, and its shard's folder the first time one is missing (once per shard: the
    /// folders stay).
    /// </summary>
    private static SafeFileHandle Create(string path)
    {
        try
        {
            return CreateFile(path);
        }
        catch (DirectoryNotFoundException)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return CreateFile(path);
        }
    }

    /// <summary>
    /// A new file, not one truncated: truncating (what <see cref="FileMode.Create"/> does, even to a file just made) has
    /// ext4 flush the file to disk when it is closed. A file left by a copy a crash cut short is truncated and written again.
    /// </summary>
    private static SafeFileHandle CreateFile(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            return File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None);
        }
    }

    /// <summary>A file that is not there, nor its directory, is deleted already.</summary>
    private static void DeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private string PathOf(string runId, string name)
    {
        if (!OutputNames.IsSafe(runId) || !OutputNames.IsSafePath(name))
        {
            throw new ArgumentException($"Unsafe output path '{runId}/{name}'.", nameof(name));
        }

        return Contained(runId, name, Path.Combine(_root, FolderOf(runId), runId + "+" + name.Replace('/', '+')));
    }

    /// <summary>Where output <paramref name="name"/> of <paramref name="runId"/> is stored, then where it was stored before: one folder per run, its name one level or two.</summary>
    private IEnumerable<string> PathsOf(string runId, string name)
    {
        yield return PathOf(runId, name);
        yield return Contained(runId, name, Path.Combine(_root, runId, name.Replace('/', '+')));
        if (name.Contains('/', StringComparison.Ordinal))
        {
            yield return Contained(runId, name, Path.Combine(_root, runId, name));
        }
    }

    private string Contained(string runId, string name, string combined)
    {
        var path = Path.GetFullPath(combined);
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Output path '{runId}/{name}' escapes the output directory.", nameof(name));
        }

        return path;
    }
}
