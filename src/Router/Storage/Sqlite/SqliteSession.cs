using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>
/// One connection of the router database with its prepared statements: a command is created once per
/// SQL text and reused (SQLite prepares it on first use and keeps it), so a state change does not pay
/// for parsing its SQL again. Used by one caller at a time (the writer, or a reader taken from the pool).
/// </summary>
internal sealed class SqliteSession(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    internal SqliteConnection Connection => connection;

    /// <summary>The prepared command for <paramref name="sql"/>, its parameters cleared (the writer's transaction is begun and committed in SQL).</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }

        command.Parameters.Clear();
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        connection.Dispose();
    }
}
