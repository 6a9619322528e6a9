using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage;

/// <summary>Opens the router's SQLite file the way every store uses it (the run store and the webhook queue share one file).</summary>
internal static class SqliteDatabase
{
    /// <summary>Creates the folder if needed, opens one unpooled connection, and sets WAL, NORMAL sync and a 5 s busy timeout.</summary>
    public static async Task<SqliteConnection> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA busy_timeout = 5000;
                """;
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
