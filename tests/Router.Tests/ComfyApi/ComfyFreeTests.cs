using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>ComfyUI's POST /free through the router: to every healthy worker, for administrators only.</summary>
public sealed class ComfyFreeTests
{
    [Fact]
    public async Task Free_FreeMemoryAsAdministrator_TheWorkerLoadsTheCheckpointAgain()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var worker = cluster.Workers[0];
        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 1), "succeeded");
        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 1, seed: 2), "succeeded");
        Assert.Equal(1, worker.CheckpointLoads);

        using var free = await cluster.Client.PostAsJsonAsync("/api/free", new { unload_models = true, free_memory = true });
        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 1, seed: 3), "succeeded");

        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
        Assert.Equal(2, worker.CheckpointLoads);
    }

    [Fact]
    public async Task Free_KeyWithoutAdmin_403AndWorkersUntouched()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var worker = cluster.Workers[0];
        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 1), "succeeded");
        using var created = await cluster.Client.PostAsJsonAsync("/v1/keys", new { name = "editor user" });
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();
        using var user = cluster.Router.CreateClient();
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var free = await user.PostAsJsonAsync("/free", new { unload_models = true, free_memory = true });
        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 1, seed: 2), "succeeded");

        Assert.Equal(HttpStatusCode.Forbidden, free.StatusCode);
        Assert.Contains("administrator", await free.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, worker.CheckpointLoads);
    }
}
