using ComfyOperator.Router.UserData;
using NpgsqlTypes;
using static ComfyOperator.Router.Storage.Postgres.PostgresParameters;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary><see cref="IUserFileStore"/> in the <c>user_files</c> table of the router's PostgreSQL database.</summary>
internal sealed class PostgresUserFileStore(PostgresRouterDatabase database) : IUserFileStore
{
    private const string Select = "SELECT content, modified_at FROM user_files WHERE owner = @owner AND path = @path";

    private const string List = """
        SELECT path, size, modified_at FROM user_files
        WHERE owner = @owner AND starts_with(path, @prefix) ORDER BY path COLLATE "C"
        """;

    private const string Upsert = """
        INSERT INTO user_files (owner, path, content, size, modified_at) VALUES (@owner, @path, @content, @size, @modified)
        ON CONFLICT (owner, path) DO UPDATE SET content = excluded.content, size = excluded.size, modified_at = excluded.modified_at
        """;

    private const string InsertNew = """
        INSERT INTO user_files (owner, path, content, size, modified_at) VALUES (@owner, @path, @content, @size, @modified)
        ON CONFLICT (owner, path) DO NOTHING
        """;

    private const string Delete = "DELETE FROM user_files WHERE owner = @owner AND path = @path";

    // One statement: the source row leaves and arrives at the target (replacing a file there) together.
    private const string Move = """
        WITH moved AS (
            DELETE FROM user_files
            WHERE owner = @owner AND path = @from AND @from <> @to
              AND (@overwrite OR NOT EXISTS (SELECT 1 FROM user_files WHERE owner = @owner AND path = @to))
            RETURNING owner, content, size)
        INSERT INTO user_files (owner, path, content, size, modified_at)
        SELECT owner, @to, content, size, @modified FROM moved
        ON CONFLICT (owner, path) DO UPDATE SET content = excluded.content, size = excluded.size, modified_at = excluded.modified_at
        """;

    public Task<UserFile?> GetAsync(string owner, string path, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Select);
                Add(command, "owner", NpgsqlDbType.Text, owner);
                Add(command, "path", NpgsqlDbType.Text, path);
                await using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct)
                    ? new UserFile(reader.GetFieldValue<byte[]>(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
                    : null;
            },
            cancellationToken);

    public Task<IReadOnlyList<UserFileInfo>> ListAsync(string owner, string prefix, CancellationToken cancellationToken) =>
        database.RunAsync<IReadOnlyList<UserFileInfo>>(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, List);
                Add(command, "owner", NpgsqlDbType.Text, owner);
                Add(command, "prefix", NpgsqlDbType.Text, prefix);
                var files = new List<UserFileInfo>();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    files.Add(new UserFileInfo(reader.GetString(0), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
                }

                return files;
            },
            cancellationToken);

    public Task<bool> PutAsync(string owner, string path, byte[] content, DateTimeOffset modified, bool overwrite, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, overwrite ? Upsert : InsertNew);
                Add(command, "owner", NpgsqlDbType.Text, owner);
                Add(command, "path", NpgsqlDbType.Text, path);
                Add(command, "content", NpgsqlDbType.Bytea, content);
                Add(command, "size", NpgsqlDbType.Bigint, content.LongLength);
                Add(command, "modified", NpgsqlDbType.Bigint, modified.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> DeleteAsync(string owner, string path, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Delete);
                Add(command, "owner", NpgsqlDbType.Text, owner);
                Add(command, "path", NpgsqlDbType.Text, path);
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);

    public Task<bool> MoveAsync(string owner, string from, string to, bool overwrite, DateTimeOffset modified, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, ct) =>
            {
                await using var command = database.Command(connection, Move);
                Add(command, "owner", NpgsqlDbType.Text, owner);
                Add(command, "from", NpgsqlDbType.Text, from);
                Add(command, "to", NpgsqlDbType.Text, to);
                Add(command, "overwrite", NpgsqlDbType.Boolean, overwrite);
                Add(command, "modified", NpgsqlDbType.Bigint, modified.ToUnixTimeMilliseconds());
                return await command.ExecuteNonQueryAsync(ct) == 1;
            },
            cancellationToken);
}
