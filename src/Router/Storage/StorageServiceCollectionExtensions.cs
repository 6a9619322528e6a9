using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Storage.Sqlite;
using ComfyOperator.Router.UserData;
using ComfyOperator.Router.Webhooks;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Storage;

/// <summary>
/// Registers the router database and its stores on the kind <c>Router:Store:Kind</c> names: SQLite
/// (<c>Router:DataDirectory</c>/router.db, the default) or PostgreSQL (<c>Router:Store:ConnectionString</c>).
/// Only the chosen database is ever created.
/// </summary>
internal static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddRouterStorage(this IServiceCollection services)
    {
        services.AddOptions<StoreOptions>().BindConfiguration(StoreOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>();

        services.AddSingleton(sp => new SqliteRouterDatabase(
            sp.GetRequiredService<IOptions<RouterOptions>>().Value.ResolvedDatabasePath,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteRouterDatabase>>()));
        services.AddSingleton(sp => new PostgresRouterDatabase(
            sp.GetRequiredService<IOptions<StoreOptions>>().Value.ConnectionString!,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PostgresRouterDatabase>>()));

        services.AddSingleton<IRouterDatabase>(sp => IsPostgres(sp)
            ? sp.GetRequiredService<PostgresRouterDatabase>()
            : sp.GetRequiredService<SqliteRouterDatabase>());
        services.AddSingleton<IRunStore>(sp => IsPostgres(sp)
            ? new PostgresRunStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteRunStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IWebhookStore>(sp => IsPostgres(sp)
            ? new PostgresWebhookStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteWebhookStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IAbandonedPromptStore>(sp => IsPostgres(sp)
            ? new PostgresAbandonedPromptStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteAbandonedPromptStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<INodeStore>(sp => IsPostgres(sp)
            ? new PostgresNodeStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteNodeStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IApiKeyStore>(sp => IsPostgres(sp)
            ? new PostgresApiKeyStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteApiKeyStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IUsageStore>(sp => IsPostgres(sp)
            ? new PostgresUsageStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteUsageStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IUserFileStore>(sp => IsPostgres(sp)
            ? new PostgresUserFileStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteUserFileStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IDataProtectionKeyStore>(sp => IsPostgres(sp)
            ? new PostgresDataProtectionKeyStore(sp.GetRequiredService<PostgresRouterDatabase>())
            : new SqliteDataProtectionKeyStore(sp.GetRequiredService<SqliteRouterDatabase>()));
        services.AddSingleton<IActiveReplicaLease>(sp => IsPostgres(sp) && !IsActiveActive(sp)
            ? ActivatorUtilities.CreateInstance<PostgresActiveReplicaLease>(sp)
            : new HeldActiveReplicaLease());
        services.AddSingleton<PostgresWorkerLeases>();
        services.AddSingleton<PostgresReplicaFeed>();
        services.AddSingleton<PostgresReplicaNotifier>();
        services.AddSingleton<IRunEventObserver, ReplicaEventRelay>();
        services.AddSingleton<IWorkerLeases>(sp => IsActiveActive(sp)
            ? sp.GetRequiredService<PostgresWorkerLeases>()
            : new LocalWorkerLeases());
        return services;
    }

    /// <summary>
    /// Starts what active/active replicas share the work with (worker leases, the feed of the other
    /// replicas' writes); nothing with one router. Register it after the dispatcher, which must hear of
    /// the first worker leases taken.
    /// </summary>
    public static IServiceCollection AddReplicaCoordination(this IServiceCollection services)
    {
        services.AddHostedService<ReplicaCoordination>();
        return services;
    }

    private static bool IsActiveActive(IServiceProvider services) => services.GetRequiredService<IOptions<StoreOptions>>().Value.IsActiveActive;

    private static bool IsPostgres(IServiceProvider services) =>
        string.Equals(services.GetRequiredService<IOptions<StoreOptions>>().Value.Kind, StoreKinds.Postgres, StringComparison.OrdinalIgnoreCase);
}
