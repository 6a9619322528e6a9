using System.Text.Json;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.ComfyApi;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Storage;
using ComfyOperator.Router.Submissions;
using ComfyOperator.Router.Webhooks;
using ComfyOperator.Router.WebUi;
using ComfyOperator.Router.WorkerDisks;
using ComfyOperator.Router.Workers;
using ComfyOperator.Router.Workflows;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Hosting;

/// <summary>
/// The composition root: registers every router service once (no registration is replaced later)
/// and validates every options class at start. Program.cs stays short.
/// </summary>
internal static class RouterServiceCollectionExtensions
{
    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web);

    /// <summary>How long a pooled connection to a worker is reused before a fresh one (and a fresh DNS lookup) replaces it.</summary>
    private static readonly TimeSpan WorkerConnectionLifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a pooled connection to a worker may wait unused before it is closed: longer than a probe
    /// interval, so a worker probed every interval or running prompts keeps its connection, while an idle
    /// worker (probed every few minutes) does not hold one with its 8 KB of buffers in between.
    /// </summary>
    private static readonly TimeSpan WorkerConnectionIdleTimeout = TimeSpan.FromSeconds(15);

    public static IServiceCollection AddComfyRouter(this IServiceCollection services)
    {
        services.AddOptions<RouterOptions>()
            .BindConfiguration(RouterOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RouterOptions>, RouterOptionsValidator>();
        services.AddSingleton(TimeProvider.System);

        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
            {
                problem.Type = problem.Status switch
                {
                    StatusCodes.Status404NotFound => Problems.NotFoundRoute,
                    StatusCodes.Status405MethodNotAllowed => Problems.MethodNotAllowed,
                    StatusCodes.Status401Unauthorized => Problems.NotAuthenticated,
                    StatusCodes.Status403Forbidden => Problems.Forbidden,
                    StatusCodes.Status413PayloadTooLarge => Problems.BodyTooLarge,
                    StatusCodes.Status500InternalServerError => Problems.Internal,
                    _ => Problems.TypeBase + "http-" + problem.Status,
                };
            }
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi();

        services.AddSingleton<CredentialStore>();
        services.AddSingleton<CredentialsAuthenticator>();
        services.AddSingleton<VerifiedCredentials>();
        services.AddSingleton<BrowserSession>();

        // The web UI's session cookies are encrypted with a key ring kept in the router's database, so they
        // survive a restart and every replica reads the others' cookies without sharing a volume. The keys
        // are stored as plain XML on purpose: whoever reads the database already holds every API key hash,
        // run and user file, so the key ring is exactly as sensitive as the database it lives in, and an
        // encryptor would need a secret of its own that every replica shares. Saying so (the null encryptor)
        // keeps data protection from warning about it at every key it makes.
        services.AddDataProtection().SetApplicationName("comfy-router");
        services.AddSingleton<DatabaseXmlRepository>();
        services.AddOptions<KeyManagementOptions>().Configure<DatabaseXmlRepository>((keys, repository) =>
        {
            keys.XmlRepository = repository;
            keys.XmlEncryptor = new NullXmlEncryptor();
        });
        services.AddAuthentication(RouterAuthentication.Scheme)
            .AddScheme<AuthenticationSchemeOptions, CredentialsAuthenticationHandler>(RouterAuthentication.Scheme, null);

        // Data protection (added again by AddAuthentication) reads its key ring at start, a hosted
        // service that only warms it for the first cookie; the first sign-in reads it instead, so a
        // router that serves no browser never loads the XML stack (about 3 MB resident).
        foreach (var warmUp in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList())
        {
            services.Remove(warmUp);
        }
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(RouterAuthentication.Scheme).RequireAuthenticatedUser().Build())
            .AddPolicy(RouterAuthentication.AdminPolicy, policy => policy
                .AddAuthenticationSchemes(RouterAuthentication.Scheme)
                .RequireAuthenticatedUser()
                .RequireClaim(RouterAuthentication.AdminClaim, "true"));

        // Probes, model reads and worker sessions share one long-lived handler, so each worker has one
        // connection pool for the life of the process; the factory's default (a new handler every
        // two minutes) opened fresh connections to every worker on each swap while the old pools
        // lived on. PooledConnectionLifetime still picks up DNS changes. The factory's per-request
        // log scopes go too: at a thousand workers they cost more than the requests they describe.
        services.AddHttpClient(HealthProber.HttpClientName)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = WorkerConnectionLifetime, PooledConnectionIdleTimeout = WorkerConnectionIdleTimeout })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton<StaticNodeSource>();
        services.AddSingleton<ApiNodeSource>();
        services.AddSingleton<WorkerRegistry>();
        services.AddSingleton<NodeAdministration>();
        services.AddComfyWorkflows();

        services.AddRouterStorage();
        services.AddComfyInputs();
        services.AddComfyOutputStore();
        services.AddComfyWebhooks(run => JsonSerializer.SerializeToNode(RunResponse.From(run), PayloadJson));
        services.AddSingleton<RunEventHub>();
        services.AddSingleton<ActiveAttempts>();
        services.AddSingleton<WorkerModelInventory>();
        services.AddSingleton<WorkerNodeClasses>();
        services.AddSingleton(sp =>
        {
            // Resolved at the first decision (they are built after the scheduler), then asked once per worker and decision.
            var connections = new Lazy<WorkerConnections>(sp.GetRequiredService<WorkerConnections>);
            var leases = new Lazy<IWorkerLeases>(sp.GetRequiredService<IWorkerLeases>);
            return new RunScheduler(
                sp.GetRequiredService<WorkerRegistry>(),
                sp.GetRequiredService<INodeSource>(),
                sp.GetRequiredService<WorkerModelInventory>(),
                sp.GetRequiredService<WorkerNodeClasses>(),
                sp.GetRequiredService<WorkflowCatalog>(),
                sp.GetRequiredService<IOptions<RouterOptions>>(),
                sp.GetRequiredService<IOptions<WorkflowRoutingOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                worker => connections.Value.IsConnected(worker) && leases.Value.Holds(worker.BaseAddress));
        });
        services.AddSingleton<IRunPlacer>(sp => sp.GetRequiredService<RunScheduler>());
        services.AddSingleton<DispatchQueue>();
        services.AddSingleton<IRunQueue>(sp => sp.GetRequiredService<DispatchQueue>());
        services.AddSingleton<RunHistoryPruner>();
        services.AddSingleton<RunService>();
        services.AddSingleton<RunDemand>();
        services.AddSingleton<RunRecovery>();

        // Order matters: credentials first (their warnings), then the store is open and runs are
        // recovered before probing and dispatch start.
        services.AddHostedService(sp => sp.GetRequiredService<CredentialStore>());
        services.AddHostedService<RunStoreInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeAdministration>());
        services.AddHostedService<WebhookRecovery>();
        services.AddHostedService(sp => sp.GetRequiredService<RunHistoryPruner>());
        services.AddSingleton(sp => new HealthProber(
            sp.GetRequiredService<WorkerRegistry>(),
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<IOptions<RouterOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<HealthProber>>(),
            worker => sp.GetRequiredService<WorkerConnections>().IsConnected(worker)));
        services.AddHostedService(sp => sp.GetRequiredService<HealthProber>());
        services.AddSingleton<WorkerConnections>();
        services.AddSingleton<AbandonedPrompts>();
        services.AddSingleton<CheckpointTracker>();
        services.AddHostedService(sp => sp.GetRequiredService<AbandonedPrompts>());
        services.AddSingleton<IRunTransitions>(sp => sp.GetRequiredService<RunService>());
        services.AddSingleton<IWorkerSessions>(sp => sp.GetRequiredService<WorkerConnections>());
        services.AddSingleton<IAbandonedPrompts>(sp => sp.GetRequiredService<AbandonedPrompts>());
        services.AddSingleton<IPromptPreparer, PromptPreparer>();
        services.AddSingleton<IRunOutputWriter, RunOutputWriter>();
        services.AddSingleton<WorkerMessageFeed>();
        services.AddSingleton<RunAttemptFactory>();
        services.AddSingleton<RunSubmission>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<IImmediateDispatcher>(sp => sp.GetRequiredService<Dispatcher>());

        // Before the dispatcher, so it stops after it: a replica hands its workers back only once it drives none.
        services.AddReplicaCoordination();
        services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        services.AddRouterMetrics();
        services.AddSingleton<IRunEventObserver>(sp => sp.GetRequiredService<RunMetricsObserver>());
        services.AddSingleton<ComfyPrompts>();
        services.AddSingleton<IRunEventObserver>(sp => sp.GetRequiredService<ComfyPrompts>());
        services.AddSingleton<IRelayedRunObserver>(sp => sp.GetRequiredService<ComfyPrompts>());
        services.AddWorkerDiskCleanup();
        services.AddSingleton<FleetDocuments>();
        services.AddSingleton<FrontEndWorkers>();
        services.AddSingleton<FrontEndProxy>();
        services.AddSingleton<FrontEndAccess>();
        services.AddSingleton<RouterRoutes>();
        services.AddHostedService<RouterMetricsBinder>();
        services.AddHostedService<WorkflowStartup>();
        services.AddHostedService<IdleMemoryTrimmer>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerModelInventory>());
        services.AddHostedService(sp => sp.GetRequiredService<WorkerNodeClasses>());
        return services;
    }
}
