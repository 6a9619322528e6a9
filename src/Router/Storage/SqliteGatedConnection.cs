using Microsoft.Data.Sqlite;

namespace ComfyOperator.Router.Storage;

/// <summary>
/// One connection to the router's SQLite file behind a gate, opened on first use with its tables
/// created (idempotently): what the small stores with rare writes share (the webhook queue, the
/// abandoned prompts). The run store has its own group-commit writer instead.
/// </summary>
internal sealed class SqliteGatedConnection(string path, string schema) : IAsyncDisposable, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;

    /// <summary>Opens the file and creates the tables once; later calls return at once.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is not null)
            {
                return;
            }

            var connection = await SqliteDatabase.OpenAsync(path, cancellationToken);
            try
            {
                using var command = connection.CreateCommand();
                command.CommandText = schema;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }

            _connection = connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <paramref name="action"/> alone on the connection.</summary>
    public async Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        await InitializeAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await action(_connection!);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        _gate.Dispose();
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
        _gate.Dispose();
    }
}
