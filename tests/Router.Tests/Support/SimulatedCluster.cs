using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Runs;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>Some ComfyUI simulators and a router pointed at them.</summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    private readonly Action<IServiceCollection>? _services;

    private SimulatedCluster(List<ComfyUiSimulator> workers, Dictionary<string, string?> settings, string dataDirectory, Action<IServiceCollection>? services)
    {
        Workers = workers;
        Settings = settings;
        DataDirectory = dataDirectory;
        _services = services;
        Router = new RouterFactory(settings, dataDirectory, services);
        Client = Router.CreateAuthorizedClient();
    }

    public IReadOnlyList<ComfyUiSimulator> Workers { get; }

    public Dictionary<string, string?> Settings { get; }

    public string DataDirectory { get; }

    public RouterFactory Router { get; private set; }

    public HttpClient Client { get; private set; }

    /// <param name="services">Replaces router services (e.g. a clock), in this router and the ones a restart starts.</param>
    public static async Task<SimulatedCluster> StartAsync(int workers, Action<ComfyUiSimulatorOptions>? configure = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var simulators = new List<ComfyUiSimulator>();
        for (var i = 0; i < workers; i++)
        {
            var options = new ComfyUiSimulatorOptions();
            configure?.Invoke(options);
            simulators.Add(await ComfyUiSimulator.StartAsync(options));
        }

        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Router:Nodes:0"] = string.Join(",", simulators.Select(s => s.BaseAddress.ToString())),
            ["Router:PendingLimit"] = "10000",
            ["Router:HistoryLimit"] = "10000",
            ["Router:WorkerLostGrace"] = "00:00:01",
            ["Router:WorkerRequestTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var cluster = new SimulatedCluster(simulators, all, Path.Combine(Path.GetTempPath(), "router-tests", Guid.NewGuid().ToString("N")), services);
        await cluster.WaitForHealthyWorkersAsync(workers);
        return cluster;
    }

    /// <summary>Stops the router (not the workers) and starts a new one on the same data directory; <paramref name="whileStopped"/> runs in between.</summary>
    public async Task RestartRouterAsync(Action? whileStopped = null)
    {
        Client.Dispose();
        await Router.DisposeAsync();
        whileStopped?.Invoke();
        Router = new RouterFactory(Settings, DataDirectory, _services);
        Client = Router.CreateAuthorizedClient();
    }

    /// <summary>Restarts the router with extra settings (e.g. ones that name the workers' folders).</summary>
    public async Task RestartRouterWithAsync(IDictionary<string, string?> settings)
    {
        foreach (var (key, value) in settings)
        {
            Settings[key] = value;
        }

        await RestartRouterAsync();
        await WaitForHealthyWorkersAsync(Workers.Count);
    }

    public async Task WaitForHealthyWorkersAsync(int count)
    {
        _ = Client.BaseAddress;
        await Wait.UntilAsync(async () =>
        {
            var nodes = await Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
            return nodes.EnumerateArray().Count(n => n.GetProperty("eligible").GetBoolean()) >= count;
        }, TimeSpan.FromSeconds(30), $"{count} eligible workers");
    }

    public async Task<string> SubmitAsync(int steps = 3, int seed = 42, string text = "a lighthouse")
    {
        using var response = await Client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(text, steps, seed)));
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST /v1/runs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}", null, response.StatusCode);
        }

        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> GetRunAsync(string id) => await Client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}");

    public async Task<JsonElement> WaitForStatusAsync(string id, string status, TimeSpan? timeout = null)
    {
        JsonElement run = default;
        await Wait.UntilAsync(async () =>
        {
            run = await GetRunAsync(id);
            var now = run.GetProperty("status").GetString();
            if (now != status && now is "succeeded" or "failed" or "cancelled")
            {
                throw new InvalidOperationException($"Run {id} ended {now} while waiting for {status}: {run}");
            }

            return now == status;
        }, timeout ?? TimeSpan.FromSeconds(60), $"run {id} to be {status}");
        return run;
    }

    /// <summary>Waits until <paramref name="count"/> of the runs are posted to <paramref name="worker"/> and it holds that many prompts; returns them with their prompt ids.</summary>
    public async Task<IReadOnlyList<(string RunId, string PromptId)>> WaitForPostedAsync(ComfyUiSimulator worker, IReadOnlyList<string> ids, int count, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(ids);
        var posted = new List<(string RunId, string PromptId)>();
        await Wait.UntilAsync(async () =>
        {
            posted.Clear();
            foreach (var id in ids)
            {
                var run = await GetRunAsync(id);
                if (run.GetProperty("worker").GetString() == worker.BaseAddress.ToString() && run.GetProperty("promptId").GetString() is { } promptId)
                {
                    posted.Add((id, promptId));
                }
            }

            return posted.Count == count && await QueuedOnAsync(worker) == count;
        }, timeout, $"{count} runs posted to {worker.BaseAddress}");
        return posted;
    }

    /// <summary>Prompts running plus pending on the worker, from its own /queue.</summary>
    public static async Task<int> QueuedOnAsync(ComfyUiSimulator worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        using var http = new HttpClient();
        var queue = await http.GetFromJsonAsync<JsonElement>(new Uri(worker.BaseAddress, "queue"));
        return queue.GetProperty("queue_running").GetArrayLength() + queue.GetProperty("queue_pending").GetArrayLength();
    }

    /// <summary>Runs straight from the store (cheaper than the API for many runs).</summary>
    internal async Task<IReadOnlyList<RunRecord>> AllRunsAsync()
    {
        var store = Router.Services.GetRequiredService<IRunStore>();
        var all = new List<RunRecord>();
        long? before = null;
        do
        {
            var page = await store.ListAsync(RunQuery.All, 500, before, CancellationToken.None);
            all.AddRange(page.Runs);
            before = page.NextBefore;
        }
        while (before is not null);
        return all;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Router.DisposeAsync();
        foreach (var worker in Workers)
        {
            await worker.DisposeAsync();
        }
    }
}
