using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Operator.Hosting;
using ComfyOperator.Testing.Cluster;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ComfyOperator.Operator.Bench.Bursty;

/// <summary>
/// One fleet under test on the simulated cluster: its own namespace with one WorkflowDeployment
/// <c>painter</c>, a router whose Kubernetes source watches that namespace, and the real operator
/// reading the router's demand over HTTP (autoscale interval 1 s, the least it takes), all in this process.
/// </summary>
internal sealed class BenchFleet(string ns, WebApplicationFactory<Program> router, HttpClient client, OperatorHost host, CancellationTokenSource stop, Task run, PodLedger pods)
    : IAsyncDisposable
{
    private const string ApiKey = "bench-key-0123456789";

    public string Namespace => ns;

    /// <summary>An authenticated client of the router.</summary>
    public HttpClient Client => client;

    public PodLedger Pods => pods;

    public static async Task<BenchFleet> StartAsync(SimulatedCluster cluster, string prefix, string workflowYaml, TimeSpan routerProbeInterval)
    {
        var ns = await cluster.CreateNamespaceAsync(prefix);
        var (router, address) = KestrelApplication.StartListening<Program>(port =>
        {
            var settings = cluster.RouterSettings(ns, ApiKey, port);
            settings["Router:ProbeInterval"] = routerProbeInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
            settings["Router:PendingLimit"] = "100000";
            settings["Router:MaxQueuePerWorker"] = "0";
            // Every run of the day stays readable for its timestamps.
            settings["Router:HistoryLimit"] = "1000000";
            settings["Logging:LogLevel:Default"] = "Error";
            return settings;
        });
        var client = router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var options = new OperatorOptions
        {
            Kubeconfig = cluster.KubeconfigPath,
            Namespaces = [ns],
            Identity = prefix,
            LeaderElection = false,
            ProbePeriodSeconds = 1,
            ProbeTimeoutSeconds = 1,
            MetricsPort = 0,
            RouterUrl = address,
            RouterApiKey = ApiKey,
            AutoscaleIntervalSeconds = 1,
        };
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        var host = OperatorHost.Create(options, new OperatorHostSettings { ConsoleLogging = false, ListenHost = "127.0.0.1" });
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => host.RunAsync(stop.Token));
        var pods = await PodLedger.StartAsync(cluster.Client, ns);
        var fleet = new BenchFleet(ns, router, client, host, stop, run, pods);
        var applied = await cluster.Kubectl.RunAsync(["apply", "-n", ns, "-f", "-"], workflowYaml);
        if (!applied.Succeeded)
        {
            await fleet.DisposeAsync();
            throw new InvalidOperationException($"kubectl apply: {applied}");
        }

        await WaitUntilAsync(async () => (await client.GetAsync("/v1/workflows/painter")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "the router to serve painter");
        return fleet;
    }

    /// <summary>Submits one run of painter (a distinct seed, so nothing is answered from ComfyUI's cache) and returns its id.</summary>
    public async Task<string> SubmitAsync(int steps, int seed)
    {
        using var response = await Client.PostAsJsonAsync("/v1/workflows/painter/runs", new { prompt = $"a painting {seed}", steps, width = 64, height = 64, seed });
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"submit: {(int)response.StatusCode} {text}");
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> RunAsync(string id)
    {
        using var response = await Client.GetAsync($"/v1/runs/{id}");
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /v1/runs/{id}: {(int)response.StatusCode} {text}");
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Workers the router's probe found healthy and that are not cordoned (busy or not).</summary>
    public async Task<int> HealthyWorkersAsync()
    {
        var nodes = await Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        return nodes.EnumerateArray().Count(n => n.GetProperty("activeHealth").GetString() == "Healthy" && !n.GetProperty("cordoned").GetBoolean());
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; throws after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            }

            // Polling interval of the condition check.
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await pods.DisposeAsync();
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await host.DisposeAsync();
        stop.Dispose();
        client.Dispose();
        await router.DisposeAsync();
    }
}
