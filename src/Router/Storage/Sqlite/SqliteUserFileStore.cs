using ComfyOperator.Router.UserData;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary><see cref="IUserFileStore"/> in the <c>user_files</c> table of the router's SQLite database.</summary>
internal sealed class SqliteUserFileStore(SqliteRouterDatabase database) : IUserFileStore
{
    private const string Select = "SELECT content, modified_at FROM user_files WHERE owner = $owner AND path = $path";

    private const string List = """
        SELECT path, size, modified_at FROM user_files
        WHERE owner = $owner AND substr(path, 1, length($prefix)) = $prefix ORDER BY path
        """;

    private const string Upsert = """
        INSERT INTO user_files (owner, path, content, size, modified_at) VALUES ($owner, $path, $content, $size, $modified)
        ON CONFLICT (owner, path) DO UPDATE SET content = excluded.content, size = excluded.size, modified_at = excluded.modified_at
        """;

    private const string InsertNew = """
        INSERT OR IGNORE INTO user_files (owner, path, content, size, modified_at) VALUES ($owner, $path, $content, $size, $modified)
        """;

    private const string Delete = "DELETE FROM user_files WHERE owner = $owner AND path = $path";

    // OR REPLACE drops a file already at the target, in the same statement.
    private const string Move = """
        UPDATE OR REPLACE user_files SET path = $to, modified_at = $modified
        WHERE owner = $owner AND path = $from AND $from <> $to
          AND ($overwrite = 1 OR NOT EXISTS (SELECT 1 FROM user_files WHERE owner = $owner AND path = $to))
        """;

    public Task<UserFile?> GetAsync(string owner, string path, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (session, ct) =>
            {
                var command = session.Command(Select);
                command.Parameters.AddWithValue("$owner", owner);
                command.Parameters.AddWithValue("$path", path);
                using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct)
                    ? new UserFile((byte[])reader.GetValue(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
                    : null;
            },
            cancellationToken);

    public Task<IReadOnlyList<UserFileInfo>> ListAsync(string owner, string prefix, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<UserFileInfo>>(
            async (session, ct) =>
            {
                var command = session.Command(List);
                command.Parameters.AddWithValue("$owner", owner);
                command.Parameters.AddWithValue("$prefix", prefix);
                var files = new List<UserFileInfo>();
                using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    files.Add(new UserFileInfo(reader.GetString(0), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
                }

                return files;
            },
            cancellationToken);

    public Task<bool> PutAsync(string owner, string path, byte[] content, DateTimeOffset modified, bool overwrite, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(overwrite ? Upsert : InsertNew);
                command.Parameters.AddWithValue("$owner", owner);
                command.Parameters.AddWithValue("$path", path);
                command.Parameters.AddWithValue("$content", content);
                command.Parameters.AddWithValue("$size", content.LongLength);
                command.Parameters.AddWithValue("$modified", modified.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> DeleteAsync(string owner, string path, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Delete);
                command.Parameters.AddWithValue("$owner", owner);
                command.Parameters.AddWithValue("$path", path);
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> MoveAsync(string owner, string from, string to, bool overwrite, DateTimeOffset modified, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (session, ct) =>
            {
                var command = session.Command(Move);
                command.Parameters.AddWithValue("$owner", owner);
                command.Parameters.AddWithValue("$from", from);
                command.Parameters.AddWithValue("$to", to);
                command.Parameters.AddWithValue("$overwrite", overwrite ? 1 : 0);
                command.Parameters.AddWithValue("$modified", modified.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) >= 1;
            },
            cancellationToken);
}
