using System.Net;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Api;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Runs;

public sealed class HistoryRetentionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Prune_BeyondHistoryLimit_OldestRunAndItsOutputsGone()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:HistoryLimit"] = "2" });
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = await cluster.SubmitAsync(seed: i);
            await cluster.WaitForStatusAsync(id, "succeeded");
            ids.Add(id);
        }

        var outputs = Path.Combine(cluster.DataDirectory, "outputs");
        await Wait.UntilAsync(async () => await StatusOfAsync(cluster.Client, ids[0]) == HttpStatusCode.NotFound, Timeout, "the oldest run to be pruned");

        // The record goes first, then its files.
        await Wait.UntilAsync(() => !LocalDirectoryOutputStore.StoredFiles(outputs, ids[0]).Any(), Timeout, $"the outputs of the pruned run {ids[0]} to be deleted");
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(cluster.Client, ids[1]));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(cluster.Client, ids[2]));
        Assert.NotEmpty(LocalDirectoryOutputStore.StoredFiles(outputs, ids[2]));
    }

    [Fact]
    public async Task Prune_RunOlderThanHistoryMaxAge_RemovedWithoutAnotherRunFinishing()
    {
        var clock = new ShiftedTimeProvider();
        await using var router = await RouterWithWorkerAsync(
            new Dictionary<string, string?> { ["Router:HistoryMaxAge"] = "01:00:00", ["Router:HistoryPruneInterval"] = "00:00:00.100" },
            services => services.AddSingleton<TimeProvider>(clock));
        var id = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, id);
        var outputs = Path.Combine(router.Factory.DataDirectory, "outputs");
        Assert.NotEmpty(LocalDirectoryOutputStore.StoredFiles(outputs, id));

        clock.Advance(TimeSpan.FromHours(2));

        // The record goes first, then its files: wait for both.
        await Wait.UntilAsync(async () => await StatusOfAsync(router.Client, id) == HttpStatusCode.NotFound, Timeout, "the old run to be pruned while the router is idle");
        await Wait.UntilAsync(() => !LocalDirectoryOutputStore.StoredFiles(outputs, id).Any(), Timeout, $"the outputs of the pruned run {id} to be deleted");
    }

    [Fact]
    public async Task Prune_RunYoungerThanHistoryMaxAge_Kept()
    {
        var clock = new ShiftedTimeProvider();
        await using var router = await RouterWithWorkerAsync(
            new Dictionary<string, string?> { ["Router:HistoryMaxAge"] = "01:00:00", ["Router:HistoryPruneInterval"] = "00:00:00.100" },
            services => services.AddSingleton<TimeProvider>(clock));
        var id = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, id);
        var pruner = router.Factory.Services.GetRequiredService<RunHistoryPruner>();

        clock.Advance(TimeSpan.FromMinutes(50));

        // A pass that runs entirely after the clock moved must keep the run (the loop runs others meanwhile too).
        Assert.True(await pruner.PruneOnceAsync(CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(router.Client, id));
    }

    [Fact]
    public async Task Prune_OutputDeletionFailsTwice_RetriedUntilGoneAndRunsUnaffected()
    {
        var failing = new FailingDeletes(failures: 2);
        await using var router = await RouterWithWorkerAsync(
            new Dictionary<string, string?> { ["Router:HistoryLimit"] = "1", ["Router:HistoryPruneInterval"] = "00:00:00.100" },
            services =>
            {
                services.RemoveAll<IOutputStore>();
                services.AddSingleton<IOutputStore>(sp => failing.Wrap(new LocalDirectoryOutputStore(sp.GetRequiredService<IOptions<RouterOptions>>())));
            });
        var first = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, first);
        var second = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, second);
        var outputs = Path.Combine(router.Factory.DataDirectory, "outputs");

        await Wait.UntilAsync(() => !LocalDirectoryOutputStore.StoredFiles(outputs, first).Any(), Timeout, "the pruned run's outputs to be deleted on a retry");

        Assert.True(failing.Attempts > 2, $"expected retries after two failures, saw {failing.Attempts} attempts");
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(router.Client, first));
        var third = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, third);
    }

    [Fact]
    public async Task Prune_StoreFailsTwice_RunsSucceedAndPruningCatchesUp()
    {
        var store = new FaultyRunStore();
        var pruneCalls = 0;
        store.Fault = method => method == nameof(IRunStore.PruneAsync) && Interlocked.Increment(ref pruneCalls) <= 3
            ? new InvalidOperationException("SQLite Error 5: 'database is locked'.")
            : null;
        await using var router = await RouterWithWorkerAsync(
            new Dictionary<string, string?> { ["Router:HistoryLimit"] = "1", ["Router:HistoryPruneInterval"] = "00:00:00.100" },
            store.Install);
        var first = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, first);
        var second = await RunsApiTests.SubmitAsync(router.Client);
        await WaitForSucceededAsync(router.Client, second);

        await Wait.UntilAsync(async () => await StatusOfAsync(router.Client, first) == HttpStatusCode.NotFound, Timeout, "pruning to succeed on a retry");

        Assert.True(Volatile.Read(ref pruneCalls) > 3);
        var nodes = await router.Client.GetStringAsync("/v1/nodes");
        Assert.Contains("\"eligible\":true", nodes, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhealthy", nodes, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(router.Client, second));
    }

    [Fact]
    public async Task Prune_FinishedRunsWithinLimit_StoreAskedOnlyWhenTheLimitIsPassed()
    {
        var store = new FaultyRunStore();
        var pruneCalls = 0;
        store.Fault = method =>
        {
            if (method == nameof(IRunStore.PruneAsync))
            {
                Interlocked.Increment(ref pruneCalls);
            }

            return null;
        };
        await using var router = await RouterWithWorkerAsync(new Dictionary<string, string?> { ["Router:HistoryLimit"] = "2", ["Router:HistoryPruneInterval"] = "01:00:00" }, store.Install);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await RunsApiTests.SubmitAsync(router.Client));
            await WaitForSucceededAsync(router.Client, ids[^1]);
        }

        await Wait.UntilAsync(async () => await StatusOfAsync(router.Client, ids[0]) == HttpStatusCode.NotFound, Timeout, "the run beyond the limit to be pruned");

        // The pass at start, then one when the third run passed the limit; the first two finishes cost the store nothing.
        Assert.Equal(2, Volatile.Read(ref pruneCalls));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(router.Client, ids[1]));
    }

    [Fact]
    public async Task Start_HistoryLimitLowered_PrunesAtStartWithoutWaitingForARun()
    {
        var ids = new List<string>();
        string dataDirectory;
        await using (var before = new RouterFactory())
        {
            using var client = before.CreateAuthorizedClient();
            for (var i = 0; i < 3; i++)
            {
                var id = await RunsApiTests.SubmitAsync(client);
                (await client.DeleteAsync($"/v1/runs/{id}")).EnsureSuccessStatusCode();
                ids.Add(id);
            }

            dataDirectory = before.DataDirectory;
        }

        // The default interval is a minute: only the pass at start can prune within the deadline.
        await using var after = new RouterFactory(new Dictionary<string, string?> { ["Router:HistoryLimit"] = "1" }, dataDirectory);
        using var restarted = after.CreateAuthorizedClient();

        await Wait.UntilAsync(async () => await StatusOfAsync(restarted, ids[1]) == HttpStatusCode.NotFound, TimeSpan.FromSeconds(15), "the runs beyond the new limit to be pruned at start");
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(restarted, ids[0]));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(restarted, ids[2]));
    }

    [Fact]
    public async Task Start_HistoryPruneIntervalZero_FailsNamingTheSetting()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:HistoryPruneInterval"] = "00:00:00" });

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("HistoryPruneInterval", ex.ToString(), StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> StatusOfAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/runs/{id}");
        return response.StatusCode;
    }

    private static async Task WaitForSucceededAsync(HttpClient client, string id) =>
        await Wait.UntilAsync(async () =>
        {
            using var response = await client.GetAsync($"/v1/runs/{id}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("\"failed\"", body, StringComparison.Ordinal);
            return body.Contains("\"status\":\"succeeded\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), $"run {id} to succeed");

    private static async Task<RouterWithWorker> RouterWithWorkerAsync(Dictionary<string, string?> settings, Action<IServiceCollection> services)
    {
        var worker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions());
        settings["Router:Nodes:0"] = worker.BaseAddress.ToString();
        var factory = new RouterFactory(settings, services: services);
        return new RouterWithWorker(worker, factory, factory.CreateAuthorizedClient());
    }

    private sealed record RouterWithWorker(ComfyUiSimulator Worker, RouterFactory Factory, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Factory.DisposeAsync();
            await Worker.DisposeAsync();
        }
    }

    /// <summary>An output store whose first deletions fail the way a read-only or busy volume does.</summary>
    private sealed class FailingDeletes(int failures)
    {
        private readonly int _failures = failures;
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public IOutputStore Wrap(IOutputStore inner) => new Store(this, inner);

        private sealed class Store(FailingDeletes owner, IOutputStore inner) : IOutputStore
        {
            public Task<long> SaveAsync(string runId, string name, Stream content, CancellationToken cancellationToken) => inner.SaveAsync(runId, name, content, cancellationToken);

            public Task<Stream?> OpenAsync(string runId, string name, CancellationToken cancellationToken) => inner.OpenAsync(runId, name, cancellationToken);

            public Task DeleteAsync(string runId, string name, CancellationToken cancellationToken) => inner.DeleteAsync(runId, name, cancellationToken);

            public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) =>
                Interlocked.Increment(ref owner._attempts) <= owner._failures
                    ? throw new UnauthorizedAccessException($"Access to the path '{runId}' is denied.")
                    : inner.DeleteRunAsync(runId, cancellationToken);
        }
    }
}
