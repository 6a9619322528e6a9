using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.WorkerDisks;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.WorkerDisks;

/// <summary>
/// After a run the router deletes, through the workers' cleanup route, the outputs it has stored and
/// the input files it uploaded; only on workers that opted in, and after Router:DiskCleanup:KeepFor.
/// </summary>
public sealed class WorkerDiskCleanupTests
{
    private const string Token = "cleanup-token-0123456789";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_OnOptedInWorker_StoredOutputsAndUploadedInputGoneOthersUntouched()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.CleanupToken = Token, new Dictionary<string, string?> { ["Router:DiskCleanup:Token"] = Token });
        await cluster.RestartRouterWithAsync(new Dictionary<string, string?> { ["Router:DiskCleanup:Workers:0"] = cluster.Workers[0].BaseAddress.ToString() });
        var (optedIn, optedOut) = (cluster.Workers[0], cluster.Workers[1]);
        var unrelated = Path.Combine(optedIn.OutputDirectory, "someone-else.png");
        await File.WriteAllBytesAsync(unrelated, TestPng.Create(4, 4, 9));

        // First on the worker that did not opt in, then on the one that did: once the second is cleaned, the first would have been too.
        await CordonAsync(cluster, optedIn, true);
        var (keptRun, keptInput) = await RunAsync(cluster, seed: 1);
        await CordonAsync(cluster, optedIn, false);
        await CordonAsync(cluster, optedOut, true);
        var (cleanedRun, cleanedInput) = await RunAsync(cluster, seed: 2);

        // The simulator counts a file just after deleting it: wait for both, not for the files alone.
        await Wait.UntilAsync(() => FilesOf(optedIn, cleanedRun, cleanedInput).Count == 0 && optedIn.CleanedFiles >= 2, Deadline, "the opted-in worker's run files to be deleted");
        Assert.Equal(2, optedIn.CleanedFiles);
        Assert.True(File.Exists(unrelated));
        Assert.Equal(2, FilesOf(optedOut, keptRun, keptInput).Count);
        Assert.Equal(0, optedOut.CleanedFiles);

        // The outputs are in the output store and the input in the router's cache, whatever the worker deleted.
        var run = await cluster.GetRunAsync(cleanedRun);
        foreach (var output in run.GetProperty("outputs").EnumerateArray())
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await cluster.Client.GetByteArrayAsync(output.GetProperty("url").GetString()))[..4]);
        }

        Assert.True(File.Exists(Path.Combine(cluster.DataDirectory, "cache", cleanedInput)));
    }

    [Fact]
    public async Task Run_WithKeepFor_FilesStayUntilDueAlsoAcrossARouterRestart()
    {
        var clock = new ShiftedTimeProvider();
        await using var cluster = await SimulatedCluster.StartAsync(
            1,
            o => o.CleanupToken = Token,
            new Dictionary<string, string?> { ["Router:DiskCleanup:Token"] = Token, ["Router:DiskCleanup:KeepFor"] = "00:10:00" },
            services => services.AddSingleton<TimeProvider>(clock));
        await cluster.RestartRouterWithAsync(new Dictionary<string, string?> { ["Router:DiskCleanup:Workers:0"] = cluster.Workers[0].BaseAddress.ToString() });
        var worker = cluster.Workers[0];

        var (id, input) = await RunAsync(cluster, seed: 3);
        await Wait.UntilAsync(() => Cleaner(cluster).PendingCount == 2, Deadline, "the run's two files to be scheduled for deletion");
        await cluster.RestartRouterAsync();
        await cluster.WaitForHealthyWorkersAsync(1);
        await Wait.UntilAsync(() => Cleaner(cluster).PendingCount == 2, Deadline, "the restarted router to schedule the deletions again");

        Assert.Equal(2, FilesOf(worker, id, input).Count);
        Assert.Equal(0, worker.CleanedFiles);

        clock.Advance(TimeSpan.FromMinutes(11));

        await Wait.UntilAsync(() => FilesOf(worker, id, input).Count == 0 && worker.CleanedFiles >= 2, Deadline, "the files to be deleted once due");
        Assert.Equal(2, worker.CleanedFiles);
    }

    [Fact]
    public async Task InputOfTwoRunsOnOneWorker_KeptUntilTheLastOneEnds()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.CleanupToken = Token, new Dictionary<string, string?>
        {
            ["Router:DiskCleanup:Token"] = Token,
            ["Router:MaxQueuePerWorker"] = "2",
        });
        await cluster.RestartRouterWithAsync(new Dictionary<string, string?> { ["Router:DiskCleanup:Workers:0"] = cluster.Workers[0].BaseAddress.ToString() });
        var worker = cluster.Workers[0];
        worker.Options.StepDelay = TimeSpan.FromMilliseconds(20);
        var png = TestPng.Create(8, 8, 7);

        // Both use the same input file and are on the worker at once; the second samples for long enough that the first is cleaned meanwhile.
        var quick = await SubmitAsync(cluster, Graph(png, steps: 150, prefix: "quick"));
        await cluster.WaitForStatusAsync(quick, "running", Deadline);
        var slow = await SubmitAsync(cluster, Graph(png, steps: 600, prefix: "slow"));
        await cluster.WaitForStatusAsync(slow, "dispatching", Deadline);
        await cluster.WaitForStatusAsync(quick, "succeeded", Deadline);
        await Wait.UntilAsync(() => worker.CleanedFiles >= 2, Deadline, "the quick run's outputs to be deleted");

        Assert.Equal(2, worker.CleanedFiles);
        Assert.True(File.Exists(Path.Combine(worker.InputDirectory, InputName(png))));
        await cluster.WaitForStatusAsync(slow, "succeeded", Deadline);
        await Wait.UntilAsync(() => !File.Exists(Path.Combine(worker.InputDirectory, InputName(png))), Deadline, "the shared input to be deleted after the last run");
    }

    [Fact]
    public async Task SameRunTwice_CachedPreviewStillFetchedAfterTheFirstWasCleaned()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.CleanupToken = Token, new Dictionary<string, string?> { ["Router:DiskCleanup:Token"] = Token });
        await cluster.RestartRouterWithAsync(new Dictionary<string, string?> { ["Router:DiskCleanup:Workers:0"] = cluster.Workers[0].BaseAddress.ToString() });
        var worker = cluster.Workers[0];

        // ComfyUI reuses the first run's preview file for the second (its node's inputs did not change).
        await RunAsync(cluster, seed: 5);
        await Wait.UntilAsync(() => worker.CleanedFiles == 2, Deadline, "the first run's files to be deleted");
        var (second, _) = await RunAsync(cluster, seed: 5);

        Assert.Equal(2, (await cluster.GetRunAsync(second)).GetProperty("outputs").GetArrayLength());
    }

    private static WorkerDiskCleaner Cleaner(SimulatedCluster cluster) => cluster.Router.Services.GetRequiredService<WorkerDiskCleaner>();

    private static async Task CordonAsync(SimulatedCluster cluster, ComfyUiSimulator worker, bool cordoned)
    {
        using var response = await cluster.Client.PatchAsJsonAsync($"/v1/nodes/{NodeIds.Of(worker.BaseAddress)}", new { cordoned });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A run that loads an uploaded image, saves it (output folder) and previews it (temp folder); returns its id and the input's file name.</summary>
    private static async Task<(string Id, string Input)> RunAsync(SimulatedCluster cluster, int seed)
    {
        var png = TestPng.Create(8, 8, seed);
        var id = await SubmitAsync(cluster, Graph(png, steps: 0, prefix: "cleaned"));
        await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        return (id, InputName(png));
    }

    private static async Task<string> SubmitAsync(SimulatedCluster cluster, JsonObject graph)
    {
        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static JsonObject Graph(byte[] png, int steps, string prefix)
    {
        var graph = new JsonObject
        {
            ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = "data:image/png;base64," + Convert.ToBase64String(png) } },
            ["2"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["filename_prefix"] = prefix, ["images"] = new JsonArray("1", 0) } },
            ["3"] = new JsonObject { ["class_type"] = "PreviewImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("1", 0) } },
        };
        if (steps > 0)
        {
            // A sampler in a side branch that only makes the run take its time.
            foreach (var (id, node) in Graphs.Sd15("slow", steps, 1))
            {
                graph["1" + id] = RenumberLinks(node!.DeepClone());
            }
        }

        return graph;
    }

    private static JsonNode RenumberLinks(JsonNode node)
    {
        foreach (var (_, value) in node["inputs"]!.AsObject().ToList())
        {
            if (value is JsonArray { Count: 2 } link && link[0] is JsonValue from && from.TryGetValue<string>(out var source))
            {
                link[0] = "1" + source;
            }
        }

        return node;
    }

    private static string InputName(byte[] png) => Convert.ToHexStringLower(SHA256.HashData(png)) + ".png";

    /// <summary>The run's files still on the worker that the router deletes: its saved image and its input (a preview in the temp folder may be a cached re-run's too, so it stays).</summary>
    private static List<string> FilesOf(ComfyUiSimulator worker, string runId, string input)
    {
        var files = Directory.EnumerateFiles(worker.OutputDirectory, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(runId, StringComparison.Ordinal))
            .ToList();
        if (File.Exists(Path.Combine(worker.InputDirectory, input)))
        {
            files.Add(Path.Combine(worker.InputDirectory, input));
        }

        return files;
    }
}
