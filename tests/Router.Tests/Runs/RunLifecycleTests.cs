using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Metrics;
using ComfyOperator.Router.Tests.Outputs;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.Webhooks;
using ComfyOperator.Testing.S3;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ComfyOperator.Router.Tests.Runs;

/// <summary>What a run's lifecycle drives besides the worker: S3 outputs, webhooks and metrics.</summary>
public sealed class RunLifecycleTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Run_WithS3Outputs_ListsPresignedUrlAndStableLinkRedirectsToTheObject()
    {
        await using var s3 = await S3rverFixture.StartAsync();
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: S3Settings(s3));

        var id = await cluster.SubmitAsync(steps: 2);
        var run = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);

        var output = Assert.Single(run.GetProperty("outputs").EnumerateArray());
        var direct = new Uri(output.GetProperty("downloadUrl").GetString()!);
        Assert.StartsWith($"/{s3.Bucket}/runs/{id}/9/", direct.AbsolutePath, StringComparison.Ordinal);
        using var http = new HttpClient();
        var bytes = await http.GetByteArrayAsync(direct);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47], bytes[..4]);

        using var noRedirects = cluster.Router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        noRedirects.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);
        using var redirect = await noRedirects.GetAsync(new Uri(output.GetProperty("url").GetString()!, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal(bytes, await http.GetByteArrayAsync(redirect.Headers.Location));

        var metrics = await RouterMetricsTests.ScrapeAsync(cluster.Client);
        Assert.Equal(bytes.Length, RouterMetricsTests.Sample(metrics, "comfy_router_s3_upload_bytes_total"));
    }

    [Fact]
    public async Task Run_S3Down_StaysRunningWhileRetryingThenFailsWithOutputUpload()
    {
        await using var s3 = await S3rverFixture.StartAsync();
        var settings = S3Settings(s3);
        settings["Router:Outputs:S3:UploadRetries"] = "3";
        settings["Router:Outputs:S3:RetryBaseDelay"] = "00:00:00.300";
        settings["Router:Outputs:S3:RetryMaxDelay"] = "00:00:00.300";
        settings["Router:Outputs:S3:RequestTimeout"] = "00:00:02";
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: settings);
        await s3.StopAsync();

        var id = await cluster.SubmitAsync(steps: 2);
        var failed = await cluster.WaitForStatusAsync(id, "failed", Deadline);

        Assert.Equal("output-upload", failed.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(failed.GetProperty("outputs").EnumerateArray());
        var events = await cluster.Client.GetStringAsync(new Uri($"/v1/runs/{id}/events?lastEventId=0", UriKind.Relative));
        Assert.True(events.IndexOf("event: started", StringComparison.Ordinal) < events.IndexOf("event: failed", StringComparison.Ordinal));
        var metrics = await RouterMetricsTests.ScrapeAsync(cluster.Client);
        Assert.True(RouterMetricsTests.Sample(metrics, "comfy_router_s3_upload_failures_total") >= 3);
    }

    [Fact]
    public async Task Run_WithWebhook_DeliversSignedSucceededWithTheRunAndCountsIt()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?>
        {
            ["Router:Webhooks:Secret"] = Secret,
            ["Router:Webhooks:PollInterval"] = "00:00:00.100",
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
        });
        var body = Graphs.Body(Graphs.Sd15(steps: 2));
        body["webhook"] = new JsonObject { ["url"] = _receiver.Url, ["events"] = new JsonArray("run.started", "run.succeeded") };

        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", body);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        await Wait.UntilAsync(() => _receiver.Received.Count >= 2, Deadline, "the started and succeeded webhooks");

        var received = _receiver.Received.ToList();
        Assert.Equal(["run.started", "run.succeeded"], received.Select(r => JsonNode.Parse(r.Body)!["type"]!.GetValue<string>()).Order());
        foreach (var hook in received)
        {
            var expected = Convert.ToBase64String(HMACSHA256.HashData(
                Convert.FromBase64String(Secret["whsec_".Length..]),
                Encoding.UTF8.GetBytes(hook.Id + "." + hook.Timestamp + "." + hook.Body)));
            Assert.Contains(hook.Signature.Split(' '), signature => signature == "v1," + expected);
            Assert.Equal(id, JsonNode.Parse(hook.Body)!["data"]!["id"]!.GetValue<string>());
        }

        var succeeded = JsonNode.Parse(received.Single(r => r.Body.Contains("run.succeeded", StringComparison.Ordinal)).Body)!;
        Assert.Equal("succeeded", succeeded["data"]!["status"]!.GetValue<string>());
        Assert.Single(succeeded["data"]!["outputs"]!.AsArray());
        var deliveries = await cluster.Client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}/webhooks");
        Assert.Equal(2, deliveries.GetProperty("data").GetArrayLength());
        await Wait.UntilAsync(
            async () => RouterMetricsTests.Sample(await RouterMetricsTests.ScrapeAsync(cluster.Client), "comfy_router_webhook_deliveries_total{outcome=\"delivered\"}") == 2,
            Deadline,
            "two delivered webhooks in the metrics");
    }

    [Fact]
    public async Task RouterRestart_WebhookLostBeforeItWasQueued_IsQueuedAgain()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?>
        {
            ["Router:Webhooks:Secret"] = Secret,
            ["Router:Webhooks:PollInterval"] = "00:00:00.100",
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
        });
        var body = Graphs.Body(Graphs.Sd15(steps: 2));
        body["webhook"] = new JsonObject { ["url"] = _receiver.Url };
        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", body);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        await Wait.UntilAsync(() => !_receiver.Received.IsEmpty, Deadline, "the succeeded webhook");

        // As if the router had died between committing the run's end and queueing its webhook.
        await cluster.RestartRouterAsync(() =>
        {
            using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(cluster.DataDirectory, "router.db")}"))
            {
                connection.Open();
                using var delete = connection.CreateCommand();
                delete.CommandText = "DELETE FROM webhook_deliveries";
                Assert.Equal(1, delete.ExecuteNonQuery());
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        });

        await Wait.UntilAsync(() => _receiver.Received.Count >= 2, Deadline, "the succeeded webhook queued again after the restart");
        Assert.All(_receiver.Received, hook =>
        {
            var payload = JsonNode.Parse(hook.Body)!;
            Assert.Equal("run.succeeded", payload["type"]!.GetValue<string>());
            Assert.Equal(id, payload["data"]!["id"]!.GetValue<string>());
        });
    }

    [Theory]
    [InlineData("""{"url": "ftp://example.com/hook"}""", "webhook.url")]
    [InlineData("""{"url": "http://169.254.169.254/hook"}""", "webhook.url")]
    [InlineData("""{"url": "https://example.com/hook", "events": ["run.exploded"]}""", "webhook.events")]
    [InlineData("""["https://example.com/hook"]""", "webhook.url")]
    public async Task Submit_BadWebhook_Returns400NamingTheField(string webhook, string field)
    {
        await using var factory = new RouterFactory();
        using var client = factory.CreateAuthorizedClient();
        var body = Graphs.Body(Graphs.Sd15());
        body["webhook"] = JsonNode.Parse(webhook);

        using var response = await client.PostAsJsonAsync("/v1/runs", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Run_OnAWorker_MovesDispatchLatencyCheckpointAndInputCacheSeries()
    {
        await using var files = await Inputs.TestFileServer.StartAsync();
        files.Files["in.png"] = TestPng.Create(8, 8, 5);
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?>
        {
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
        });
        var worker = cluster.Workers[0].BaseAddress.GetLeftPart(UriPartial.Authority);

        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 3), "succeeded", Deadline);
        await cluster.WaitForStatusAsync(await cluster.SubmitAsync(steps: 3, seed: 9), "succeeded", Deadline);
        var graph = Graphs.Sd15(steps: 3, seed: 10);
        graph["4"]!["inputs"]!["ckpt_name"] = "sd_xl_base_1.0.safetensors";
        using (var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph)))
        {
            await cluster.WaitForStatusAsync((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!, "succeeded", Deadline);
        }

        foreach (var prefix in (string[])["a", "b"])
        {
            var load = new JsonObject
            {
                ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = files.Url("in.png") } },
                ["2"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["filename_prefix"] = prefix, ["images"] = new JsonArray("1", 0) } },
            };
            using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(load));
            await cluster.WaitForStatusAsync((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!, "succeeded", Deadline);
        }

        // A run's status is stored before its end is published to the metrics: wait for the last one.
        var text = string.Empty;
        await Wait.UntilAsync(
            async () =>
            {
                text = await RouterMetricsTests.ScrapeAsync(cluster.Client);
                return RouterMetricsTests.Sample(text, "comfy_router_run_duration_seconds_count{outcome=\"succeeded\",workflow=\"adhoc\"}") == 5
                    && RouterMetricsTests.Sample(text, "comfy_router_input_downloads_in_flight") == 0;
            },
            Deadline,
            "the five runs' ends in the metrics");
        Assert.Equal(5, RouterMetricsTests.Sample(text, $"comfy_router_dispatches_total{{worker=\"{worker}\"}}"));
        Assert.Equal(5, RouterMetricsTests.Sample(text, "comfy_router_queue_wait_seconds_count{workflow=\"adhoc\"}"));
        Assert.Equal(5, RouterMetricsTests.Sample(text, "comfy_router_run_duration_seconds_count{outcome=\"succeeded\",workflow=\"adhoc\"}"));
        Assert.Equal(3, RouterMetricsTests.Sample(text, "comfy_router_time_to_first_progress_seconds_count{workflow=\"adhoc\"}"));
        Assert.Equal(2, RouterMetricsTests.Sample(text, $"comfy_router_checkpoint_switches_total{{worker=\"{worker}\"}}"));
        Assert.Equal(1, RouterMetricsTests.Sample(text, "comfy_router_input_cache_misses_total"));
        Assert.Equal(1, RouterMetricsTests.Sample(text, "comfy_router_input_cache_hits_total"));
        Assert.Equal(0, RouterMetricsTests.Sample(text, "comfy_router_input_downloads_in_flight"));
        Assert.Equal(files.Files["in.png"].Length, RouterMetricsTests.Sample(text, "comfy_router_input_cache_bytes"));
    }

    private static Dictionary<string, string?> S3Settings(S3rverFixture s3) => new()
    {
        ["Router:Outputs:Kind"] = "s3",
        ["Router:Outputs:S3:ServiceUrl"] = s3.ServiceUrl.ToString(),
        ["Router:Outputs:S3:Bucket"] = s3.Bucket,
        ["Router:Outputs:S3:AccessKey"] = S3rverFixture.AccessKey,
        ["Router:Outputs:S3:SecretKey"] = S3rverFixture.SecretKey,
        ["Router:Outputs:S3:UseChunkEncoding"] = "false",
    };
}
