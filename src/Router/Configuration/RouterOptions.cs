namespace ComfyOperator.Router.Configuration;

/// <summary>
/// Every router setting. Bound from the <c>Router</c> section; the environment names of the
/// original Comfy Router (<c>COMFY_ROUTER__PENDING_LIMIT</c> ...) land here through
/// <see cref="RouterEnvironmentVariablesSource"/>.
/// </summary>
internal sealed class RouterOptions
{
    public const string SectionName = "Router";

    /// <summary>Address Kestrel listens on: an IP address, <c>localhost</c> or <c>*</c>.</summary>
    public string Host { get; set; } = "0.0.0.0";

    public int Port { get; set; } = 8080;

    /// <summary>Basic auth user name. Empty together with <see cref="Password"/> disables Basic auth.</summary>
    public string Username { get; set; } = DefaultUsername;

    public string Password { get; set; } = DefaultPassword;

    /// <summary>The original Comfy Router's defaults, kept so its setups work; the router warns while they are in use.</summary>
    public const string DefaultUsername = "admin";

    public const string DefaultPassword = "admin";

    /// <summary>API keys accepted as <c>Authorization: Bearer</c> tokens.</summary>
    public List<string> ApiKeys { get; } = [];

    /// <summary>A file with one API key per line (<c>#</c> comments); re-read when it changes.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>Whether <c>GET /v1/runs/{id}/preview</c> is served without credentials.</summary>
    public bool PublicPreviews { get; set; } = true;

    /// <summary>
    /// Whether ComfyUI's API (<c>/prompt</c>, <c>/ws</c>, <c>/history</c>...) is served without credentials,
    /// for trusted networks; callers without credentials then share one history and queue.
    /// </summary>
    public bool ComfyApiAnonymous { get; set; }

    /// <summary>How long a browser's sign-in to the web UI (its session cookie) lasts.</summary>
    public TimeSpan WebUiSessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Who may send writes (POST, PUT, PATCH, DELETE) to routes the router does not serve itself (custom
    /// nodes' own routes, which their editor extensions call) through to the front-end worker: one of
    /// <see cref="WebUiProxyWritesNames"/>.
    /// </summary>
    public string WebUiProxyWrites { get; set; } = WebUiProxyWritesNames.Users;

    /// <summary>Request bodies above this, sent through to the front-end worker, get 413.</summary>
    public long WebUiProxyMaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Comma-separated path prefixes of worker routes only administrators may reach through the web UI,
    /// whatever the method (ComfyUI-Manager installs packages and restarts ComfyUI, some of it on GETs);
    /// each also matches under <c>/api</c>.
    /// </summary>
    public string WebUiAdminPaths { get; set; } = "/manager,/customnode,/snapshot,/externalmodel,/comfyui_manager,/model/install,"
        + "/v2/manager,/v2/customnode,/v2/snapshot,/v2/externalmodel,/v2/comfyui_manager";

    /// <summary>Runs waiting in the router's queue before new submissions get 429.</summary>
    public int PendingLimit { get; set; } = 25;

    /// <summary>Finished runs kept (with their outputs); older ones are pruned.</summary>
    public int HistoryLimit { get; set; } = 50;

    /// <summary>Finished runs older than this are pruned too; zero keeps them until HistoryLimit.</summary>
    public TimeSpan HistoryMaxAge { get; set; } = TimeSpan.Zero;

    /// <summary>How often finished runs are pruned even when none finishes (at most a tenth of HistoryMaxAge, not under a second).</summary>
    public TimeSpan HistoryPruneInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Directory for the SQLite file and local outputs unless those are set explicitly.</summary>
    public string DataDirectory { get; set; } = ".data";

    public string? DatabasePath { get; set; }

    public string? OutputDirectory { get; set; }

    /// <summary>Request bodies above this get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>ComfyUI base URLs; each entry may hold several, separated by commas or semicolons, and ranges like <c>http://gpu[1-8]:8188</c>.</summary>
    public List<string> Nodes { get; } = [];

    /// <summary>A JSON array or text file (one entry per line, <c>#</c> comments) of node URLs, reloaded on change.</summary>
    public string? ServersFile { get; set; }

    /// <summary>
    /// How often the servers file is read again besides the file watcher (a ConfigMap or Secret volume
    /// swaps a link, which watchers may not report).
    /// </summary>
    public TimeSpan ServersFilePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Name of the placement policy (see <c>PlacementPolicyNames</c>).</summary>
    public string PlacementPolicy { get; set; } = "LeastQueued";

    /// <summary>Prompts the router may keep queued on one worker beyond the running one.</summary>
    public int MaxQueuePerWorker { get; set; } = 1;

    /// <summary>Dispatch attempts before a run whose worker keeps getting lost fails.</summary>
    public int MaxAttempts { get; set; } = 3;

    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A worker running a prompt without any event for this long is marked passive-unhealthy.</summary>
    public TimeSpan NoProgressTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a worker may take to confirm an interrupt before the run fails with a timeout.</summary>
    public TimeSpan InterruptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a worker's socket may stay down while it has a run before the run goes back to the queue.</summary>
    public TimeSpan WorkerLostGrace { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Per-call timeout for requests to workers (prompt, history, view).</summary>
    public TimeSpan WorkerRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a passive-unhealthy worker is skipped before it is tried again.</summary>
    public TimeSpan PassiveHealthReactivation { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the router keeps trying to delete or interrupt the prompt of an abandoned attempt on its old worker.</summary>
    public TimeSpan AbandonedPromptWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often it tries while the old worker does not answer or still has the prompt.</summary>
    public TimeSpan AbandonedPromptRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    public string ResolvedDatabasePath => Path.GetFullPath(DatabasePath ?? Path.Combine(DataDirectory, "router.db"));

    public string ResolvedOutputDirectory => Path.GetFullPath(OutputDirectory ?? Path.Combine(DataDirectory, "outputs"));
}
