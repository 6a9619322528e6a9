namespace ComfyOperator.Router.Tests.Support;

/// <summary>
/// Base of the store contract tests: each test gets a fresh database from the implementation's
/// <see cref="CreateDatabase"/> (one subclass per implementation: SQLite, PostgreSQL).
/// </summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    private IStoreTestDatabase? _database;

    private protected IStoreTestDatabase Database => _database ?? throw new InvalidOperationException("The test database is created in InitializeAsync.");

    public Task InitializeAsync()
    {
        _database = CreateDatabase();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private protected abstract IStoreTestDatabase CreateDatabase();
}
