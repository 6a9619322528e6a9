namespace ComfyOperator.Router.Storage;

/// <summary>
/// The database behind a store failed (file locked or unreadable, server down, constraint broken).
/// Every store implementation throws this, whatever the database, so callers handle one type.
/// </summary>
public sealed class StorageException : Exception
{
    public StorageException()
    {
    }

    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
