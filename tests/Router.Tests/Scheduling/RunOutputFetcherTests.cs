using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>A run's output files are copied as the worker announces them, not after its prompt ends, and a copy the run does not keep is deleted.</summary>
public sealed class RunOutputFetcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_OutputAnnouncedWhileThePromptGoesOn_StoredBeforeThePromptEnds()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50));
        var worker = cluster.Workers[0];
        var id = await SubmitAsync(cluster, TwoImages(laterSteps: 100));

        // The first image is saved (and announced) while the second branch has 100 steps to go; the worker
        // then holds still, so the prompt cannot end before the router has the first image.
        await Wait.UntilAsync(() => Directory.EnumerateFiles(worker.OutputDirectory, "*.png", SearchOption.AllDirectories).Any(), Deadline, "the first image saved on the worker");
        worker.Hang();
        var stored = StoredFilesOf(cluster, id);
        await Wait.UntilAsync(() => PngsIn(stored).Length == 1, Deadline, "the first image stored by the router while the prompt runs");
        Assert.Equal(0, worker.PromptsExecuted);
        Assert.Equal("running", (await cluster.GetRunAsync(id)).GetProperty("status").GetString());

        worker.Revive();
        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        var outputs = done.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(new[] { "19", "9" }, outputs.Select(o => o.GetProperty("nodeId").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(2, PngsIn(stored).Length);
        foreach (var output in outputs)
        {
            var bytes = await cluster.Client.GetByteArrayAsync($"/v1/runs/{id}/outputs/{output.GetProperty("name").GetString()}");
            Assert.Equal(output.GetProperty("size").GetInt64(), bytes.Length);
            Assert.Equal(TestPngSignature, bytes[..8]);
        }

        Assert.DoesNotContain(stored(), f => f.EndsWith(".partial", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_AfterAnOutputWasCopied_CopyDeletedWithNothingRecorded()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50));
        var id = await SubmitAsync(cluster, TwoImages(laterSteps: 400));
        var stored = StoredFilesOf(cluster, id);
        await Wait.UntilAsync(() => PngsIn(stored).Length == 1, Deadline, "the first image stored by the router while the prompt runs");

        using var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{id}");
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var done = await cluster.WaitForStatusAsync(id, "cancelled", Deadline);

        // The run names no output, and the copy made goes with the attempt, which ends just after it recorded the cancel.
        Assert.Empty(done.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array ? outputs.EnumerateArray() : []);
        await Wait.UntilAsync(
            () => stored().Length == 0, Deadline, "the copy deleted when the attempt ended");
    }

    [Fact]
    public async Task Dispose_CopiesTheRunDoesNotKeep_DeletedAndKeptOnesStay()
    {
        await using var worker = await ComfyUiSimulator.StartAsync();
        await File.WriteAllBytesAsync(Path.Combine(worker.OutputDirectory, "kept.png"), TestPngSignature);
        await File.WriteAllBytesAsync(Path.Combine(worker.OutputDirectory, "announced.png"), TestPngSignature);
        var root = Path.Combine(Path.GetTempPath(), "router-tests", Guid.NewGuid().ToString("N"));
        var writer = new NodeFolderWriter(new LocalDirectoryOutputStore(root));
        var run = new RunRecord { Id = Guid.NewGuid().ToString("D"), Workflow = "{}" };
        using var client = new ComfyClient(worker.BaseAddress);
        try
        {
            var fetcher = new RunOutputFetcher(run, client, writer, NullLogger.Instance, CancellationToken.None);
            await using (fetcher)
            {
                // Announced by the worker and never part of the result: copied, then deleted when the attempt ends.
                fetcher.Announce("9", new ComfyFileRef("announced.png"));
                var kept = await fetcher.GetAsync("9", new ComfyFileRef("kept.png"), CancellationToken.None);
                var announced = await fetcher.GetAsync("9", new ComfyFileRef("announced.png"), CancellationToken.None);
                var missing = await fetcher.GetAsync("9", new ComfyFileRef("never-written.png"), CancellationToken.None);

                Assert.Equal(TestPngSignature.Length, kept.Output!.Size);
                Assert.Contains(LocalDirectoryOutputStore.StoredFiles(root, run.Id), f => Path.GetFileName(f) == $"{run.Id}+9+announced.png");
                Assert.Null(missing.Output);
                Assert.IsAssignableFrom<ComfyHttpException>(missing.FetchError);
                fetcher.Keep(kept.Output);
                Assert.NotNull(announced.Output);
            }

            Assert.Equal([$"{run.Id}+9+kept.png"], LocalDirectoryOutputStore.StoredFiles(root, run.Id).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Stores each file as <c>&lt;node&gt;/&lt;file&gt;</c> in a real local output store.</summary>
    private sealed class NodeFolderWriter(LocalDirectoryOutputStore store) : IRunOutputWriter
    {
        public async Task<RunOutput> SaveAsync(RunRecord run, string nodeId, string name, string fileName, Stream content, CancellationToken cancellationToken)
        {
            var storedAs = $"{nodeId}/{fileName}";
            return new RunOutput(name, nodeId, "image/png", await store.SaveAsync(run.Id, storedAs, content, cancellationToken)) { StoredAs = storedAs };
        }

        public Task DeleteAsync(RunRecord run, RunOutput output, CancellationToken cancellationToken) =>
            store.DeleteAsync(run.Id, output.StorePath, cancellationToken);
    }

    private static readonly byte[] TestPngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// The reference graph with one step, and a second branch sampling on from its latent for
    /// <paramref name="laterSteps"/> steps: image 9 is saved (and announced) first, image 19 at the end.
    /// </summary>
    private static JsonObject TwoImages(int laterSteps)
    {
        var graph = Graphs.Sd15(steps: 1);
        var later = graph["3"]!.DeepClone().AsObject();
        later["inputs"]!["steps"] = laterSteps;
        later["inputs"]!["latent_image"] = new JsonArray("3", 0);
        graph["13"] = later;
        graph["18"] = new JsonObject { ["class_type"] = "VAEDecode", ["inputs"] = new JsonObject { ["samples"] = new JsonArray("13", 0), ["vae"] = new JsonArray("4", 2) } };
        graph["19"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["filename_prefix"] = "Later", ["images"] = new JsonArray("18", 0) } };
        return graph;
    }

    private static async Task<string> SubmitAsync(SimulatedCluster cluster, JsonObject graph)
    {
        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>The files the router's output store holds for run <paramref name="id"/>, read anew at each call.</summary>
    private static Func<string[]> StoredFilesOf(SimulatedCluster cluster, string id) =>
        () => [.. LocalDirectoryOutputStore.StoredFiles(cluster.Router.Services.GetRequiredService<IOptions<RouterOptions>>().Value.ResolvedOutputDirectory, id)];

    private static string[] PngsIn(Func<string[]> stored) => [.. stored().Where(f => f.EndsWith(".png", StringComparison.Ordinal))];
}
