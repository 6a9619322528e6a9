namespace ComfyOperator.Router.UserData;

/// <summary>
/// The web UI's user state (ComfyUI's user directory: saved workflows, <c>comfy.settings.json</c>,
/// templates…), one set of files per caller, in the router's database so every replica and every
/// worker sees the same. Paths are keys checked by <see cref="UserFilePath"/>, never file-system paths.
/// </summary>
internal interface IUserFileStore
{
    /// <summary>The file, or null.</summary>
    Task<UserFile?> GetAsync(string owner, string path, CancellationToken cancellationToken);

    /// <summary>The owner's files whose path starts with <paramref name="prefix"/> (<c>""</c>: all, <c>"workflows/"</c>: that folder and below), by path.</summary>
    Task<IReadOnlyList<UserFileInfo>> ListAsync(string owner, string prefix, CancellationToken cancellationToken);

    /// <summary>Writes the file; false (and nothing written) when it exists and <paramref name="overwrite"/> is false.</summary>
    Task<bool> PutAsync(string owner, string path, byte[] content, DateTimeOffset modified, bool overwrite, CancellationToken cancellationToken);

    /// <summary>False when there was no such file.</summary>
    Task<bool> DeleteAsync(string owner, string path, CancellationToken cancellationToken);

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> in one statement; false (nothing changed) when
    /// there is no <paramref name="from"/>, or <paramref name="to"/> exists and <paramref name="overwrite"/> is false.
    /// </summary>
    Task<bool> MoveAsync(string owner, string from, string to, bool overwrite, DateTimeOffset modified, CancellationToken cancellationToken);
}
