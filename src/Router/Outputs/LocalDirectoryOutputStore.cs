using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace ComfyOperator.Router.Outputs;

/// <summary>
/// Outputs as files of one directory per run: <c>&lt;OutputDirectory&gt;/&lt;run id&gt;/&lt;output&gt;+&lt;file&gt;</c> for an
/// output name <c>&lt;output&gt;/&lt;file&gt;</c> ('+' is outside the names' alphabet, so no two names meet). One level:
/// one directory operation per output, not one per level. Outputs stored before as
/// <c>&lt;run id&gt;/&lt;output&gt;/&lt;file&gt;</c> are still read and deleted.
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

    public async Task<long> SaveAsync(string runId, string name, Stream content, CancellationToken cancellationToken)
    {
        var path = PathOf(runId, name);
        var temporary = path + ".partial";

        // Unbuffered and synchronous (SynchronousFileWriter): CopyToAsync writes from the content's own
        // buffer, or pooled chunks, straight into the file, on the thread that read them.
        long length;
        try
        {
            using var handle = Create(runId, temporary);
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

        var path = PathOf(runId, name);
        if (!File.Exists(path) && LegacyPathOf(runId, name) is { } legacy && File.Exists(legacy))
        {
            path = legacy;
        }

        return Task.FromResult<Stream?>(File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true)
            : null);
    }

    public Task DeleteAsync(string runId, string name, CancellationToken cancellationToken)
    {
        DeleteFile(PathOf(runId, name));
        if (LegacyPathOf(runId, name) is { } legacy)
        {
            DeleteFile(legacy);
        }

        return Task.CompletedTask;
    }

    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        if (OutputNames.IsSafe(runId))
        {
            var directory = Path.Combine(_root, runId);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Creates <paramref name="path"/> in the run's directory, made first: one mkdir is cheaper than a failed open and its
    /// exception for a run's first output, and most runs have one. A new file, not one truncated: truncating (what
    /// <see cref="FileMode.Create"/> does, even to a file just made) has ext4 flush the file to disk when it is closed.
    /// A file left by a copy a crash cut short is truncated and written again.
    /// </summary>
    private SafeFileHandle Create(string runId, string path)
    {
        Directory.CreateDirectory(Path.Combine(_root, runId));
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

        return Contained(runId, name, Path.Combine(_root, runId, name.Replace('/', '+')));
    }

    /// <summary>Where an output <c>&lt;output&gt;/&lt;file&gt;</c> was stored before one level (null for a name of one part).</summary>
    private string? LegacyPathOf(string runId, string name) =>
        name.Contains('/', StringComparison.Ordinal) ? Contained(runId, name, Path.Combine(_root, runId, name)) : null;

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
