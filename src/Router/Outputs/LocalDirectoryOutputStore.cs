using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Outputs;

/// <summary>Outputs as files under <c>&lt;OutputDirectory&gt;/&lt;run id&gt;/&lt;name&gt;</c>.</summary>
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
        CreateParents(runId, name);
        var temporary = path + ".partial";

        // Unbuffered and synchronous (SynchronousFileWriter): CopyToAsync writes from the content's own
        // buffer, or pooled chunks, straight into the file, on the thread that read them.
        long length;
        try
        {
            using var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
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
        return Task.FromResult<Stream?>(File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true)
            : null);
    }

    public Task DeleteAsync(string runId, string name, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(runId, name));
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
    /// Makes <c>&lt;run&gt;</c> and <c>&lt;run&gt;/&lt;output&gt;</c> one level at a time: the root exists, and
    /// <see cref="Directory.CreateDirectory"/> on the deeper one alone first fails, then probes each parent.
    /// </summary>
    private void CreateParents(string runId, string name)
    {
        var directory = Path.Combine(_root, runId);
        Directory.CreateDirectory(directory);
        if (name.IndexOf('/', StringComparison.Ordinal) is var slash and > 0)
        {
            Directory.CreateDirectory(Path.Combine(directory, name[..slash]));
        }
    }

    private string PathOf(string runId, string name)
    {
        if (!OutputNames.IsSafe(runId) || !OutputNames.IsSafePath(name))
        {
            throw new ArgumentException($"Unsafe output path '{runId}/{name}'.", nameof(name));
        }

        var path = Path.GetFullPath(Path.Combine(_root, runId, name));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Output path '{runId}/{name}' escapes the output directory.", nameof(name));
        }

        return path;
    }
}
