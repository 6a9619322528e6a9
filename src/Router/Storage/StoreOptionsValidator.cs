using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ComfyOperator.Router.Storage;

/// <summary>
/// Checks <c>Router:Store</c> at start; each failure names the setting and its environment variable.
/// No message repeats the connection string: it may hold a password.
/// </summary>
internal sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
{
    public const string KindSetting = "Router:Store:Kind (COMFY_ROUTER__STORE__KIND)";

    public const string ConnectionStringSetting = "Router:Store:ConnectionString (COMFY_ROUTER__STORE__CONNECTION_STRING)";

    public const string ReplicaModeSetting = "Router:Store:ReplicaMode (COMFY_ROUTER__STORE__REPLICA_MODE)";

    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        if (!ReplicaModes.All.Contains(options.ReplicaMode, StringComparer.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail($"{ReplicaModeSetting} '{options.ReplicaMode}' is unknown; use one of {string.Join(", ", ReplicaModes.All)}.");
        }

        if (!StoreKinds.All.Contains(options.Kind, StringComparer.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail($"{KindSetting} '{options.Kind}' is unknown; use one of {string.Join(", ", StoreKinds.All)}.");
        }

        if (string.Equals(options.Kind, StoreKinds.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            if (string.Equals(options.ReplicaMode, ReplicaModes.Active, StringComparison.OrdinalIgnoreCase))
            {
                return ValidateOptionsResult.Fail($"{ReplicaModeSetting} '{ReplicaModes.Active}' needs several routers on one database, but {KindSetting} is '{StoreKinds.Sqlite}', a file of one router; set the kind to '{StoreKinds.Postgres}'.");
            }

            return string.IsNullOrEmpty(options.ConnectionString)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{ConnectionStringSetting} is set, but {KindSetting} is '{StoreKinds.Sqlite}', which keeps its file at Router:DatabasePath; set the kind to '{StoreKinds.Postgres}' or remove the connection string.");
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail($"{ConnectionStringSetting} is required when {KindSetting} is '{StoreKinds.Postgres}' (e.g. Host=db;Database=router;Username=router;Password=...).");
        }

        return ValidatePostgresConnectionString(options.ConnectionString);
    }

    /// <summary>Apart, so a SQLite router validating its options never loads Npgsql.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ValidateOptionsResult ValidatePostgresConnectionString(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrEmpty(builder.Host))
            {
                return ValidateOptionsResult.Fail($"{ConnectionStringSetting} names no Host.");
            }
        }
        catch (ArgumentException)
        {
            // The parser's message quotes the offending part, which may be the password.
            return ValidateOptionsResult.Fail($"{ConnectionStringSetting} is not a valid Npgsql connection string (Key=Value pairs separated by ';').");
        }

        return ValidateOptionsResult.Success;
    }
}
