using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Webhooks;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>Registers the router database on SQLite (<c>Router:DataDirectory</c>/router.db) and the stores on it.</summary>
internal static class SqliteStorageServiceCollectionExtensions
{
    public static IServiceCollection AddSqliteStorage(this IServiceCollection services)
    {
        services.AddSingleton(sp => new SqliteRouterDatabase(
            sp.GetRequiredService<IOptions<RouterOptions>>().Value.ResolvedDatabasePath,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteRouterDatabase>>()));
        services.AddSingleton<IRouterDatabase>(sp => sp.GetRequiredService<SqliteRouterDatabase>());
        services.AddSingleton<IRunStore, SqliteRunStore>();
        services.AddSingleton<IWebhookStore, SqliteWebhookStore>();
        services.AddSingleton<IAbandonedPromptStore, SqliteAbandonedPromptStore>();
        services.AddSingleton<INodeStore, SqliteNodeStore>();
        services.AddSingleton<IApiKeyStore, SqliteApiKeyStore>();
        services.AddSingleton<IUsageStore, SqliteUsageStore>();
        return services;
    }
}
