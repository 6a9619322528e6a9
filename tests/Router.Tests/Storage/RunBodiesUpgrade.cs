using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Webhooks;
using static ComfyOperator.Router.Tests.Support.StoreRecords;

namespace ComfyOperator.Router.Tests.Storage;

/// <summary>
/// A database as routers wrote it before migration 8 moved a run's graph, metadata, webhook and
/// <c>extra_data</c> into <c>run_bodies</c>: the SQL (valid on SQLite and PostgreSQL) that fills a database
/// at migration 7, and what must hold once it is opened at the current version, through the stores.
/// </summary>
internal static class RunBodiesUpgrade
{
    public const string Queued = "00000000-0000-7000-8000-00000000000a";
    public const string Running = "00000000-0000-7000-8000-00000000000b";
    public const string Finished = "00000000-0000-7000-8000-00000000000c";

    /// <summary>Three runs (queued, running, succeeded with outputs), each with a graph, metadata, webhook and extra_data; their events; the finished one's webhook delivery.</summary>
    public const string Seed = """
        INSERT INTO runs (id, status, priority, idempotency_key, workflow, metadata, attempts, worker, prompt_id, reason, failure, outputs,
                          cancel_requested, queued_at, dispatched_at, started_at, finished_at, last_event_seq, inputs, webhook, deployment, owner, client_id, extra_data)
        VALUES ('00000000-0000-7000-8000-00000000000c', 'succeeded', 0, 'order-c', '{"9":{"class_type":"SaveImage","inputs":{}}}', '{"ticket":3}', 1,
                'http://gpu1:8188/', 'p-c', NULL, NULL, '[{"name":"a.png","nodeId":"9","contentType":"image/png","size":10,"storedAs":"images/a.png"}]',
                FALSE, 1000, 1100, 1200, 1300, 4, NULL, '{"url":"https://hooks.example/c","events":["run.succeeded"]}', 'sd15', 'key-aaaaaaaa', 'c-c', '{"extra_pnginfo":{"c":1}}'),
               ('00000000-0000-7000-8000-00000000000b', 'running', 5, 'order-b', '{"3":{"class_type":"KSampler","inputs":{}}}', '{"ticket":2}', 1,
                'http://gpu2:8188/', 'p-b', NULL, NULL, NULL,
                FALSE, 2000, 2100, 2200, NULL, 3, '[{"nodeId":"1","input":"image","kind":0,"source":"https://x/y.png","fileName":"y.png"}]',
                '{"url":"https://hooks.example/b","events":["run.succeeded","run.failed"]}', NULL, 'key-aaaaaaaa', 'c-b', '{"client_id":"ui-b"}'),
               ('00000000-0000-7000-8000-00000000000a', 'queued', 0, 'order-a', '{"4":{"class_type":"CheckpointLoaderSimple","inputs":{}}}', '{"ticket":1}', 0,
                NULL, NULL, NULL, NULL, NULL,
                FALSE, 3000, NULL, NULL, NULL, 1, NULL, '{"url":"https://hooks.example/a","events":["run.failed"]}', 'sd15', 'key-bbbbbbbb', NULL, '{"client_id":"ui-a"}');
        INSERT INTO run_events (run_id, seq, type, data, at) VALUES
            ('00000000-0000-7000-8000-00000000000c', 1, 'queued', '{}', 1000), ('00000000-0000-7000-8000-00000000000c', 2, 'dispatching', '{}', 1100),
            ('00000000-0000-7000-8000-00000000000c', 3, 'started', '{}', 1200), ('00000000-0000-7000-8000-00000000000c', 4, 'succeeded', '{}', 1300),
            ('00000000-0000-7000-8000-00000000000b', 1, 'queued', '{}', 2000), ('00000000-0000-7000-8000-00000000000b', 2, 'dispatching', '{}', 2100),
            ('00000000-0000-7000-8000-00000000000b', 3, 'started', '{}', 2200),
            ('00000000-0000-7000-8000-00000000000a', 1, 'queued', '{}', 3000);
        INSERT INTO webhook_deliveries (id, run_id, event, url, body, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at)
        VALUES ('d-c', '00000000-0000-7000-8000-00000000000c', 'run.succeeded', 'https://hooks.example/c', '{"id":"c"}', 'delivered', 1, 1300, 1300, 1310, 200, NULL, 1310);
        """;

    /// <summary>
    /// Every part of every run reads back as written; the runs go on (the running one succeeds, the queued one is
    /// found by its key and cancelled, a new run numbers after them) and the finished ones are deleted with their bodies
    /// (<paramref name="bodies"/> counts the rows of <c>run_bodies</c>).
    /// </summary>
    public static async Task AssertIntactAndUsableAsync(IRunStore runs, IWebhookStore webhooks, Func<Task<long>> bodies)
    {
        var finished = (await runs.GetAsync(Finished, CancellationToken.None))!;
        Assert.Equal(
            (RunStatus.Succeeded, "order-c", "key-aaaaaaaa", "sd15", "{\"9\":{\"class_type\":\"SaveImage\",\"inputs\":{}}}", "{\"ticket\":3}", "https://hooks.example/c", "{\"extra_pnginfo\":{\"c\":1}}", "images/a.png", "c-c", 4L),
            (finished.Status, finished.IdempotencyKey, finished.Owner, finished.Deployment, finished.Workflow, finished.Metadata, finished.Webhook?.Url, finished.ExtraData, finished.Outputs.Single().StorePath, finished.ClientId, finished.LastEventSequence));
        var running = (await runs.GetByIdempotencyKeyAsync("key-aaaaaaaa", "order-b", CancellationToken.None))!;
        Assert.Equal(
            (Running, RunStatus.Running, 5, "{\"3\":{\"class_type\":\"KSampler\",\"inputs\":{}}}", "{\"ticket\":2}", "y.png", "http://gpu2:8188/", "p-b", "{\"client_id\":\"ui-b\"}"),
            (running.Id, running.Status, running.Priority, running.Workflow, running.Metadata, running.Inputs.Single().FileName, running.Worker, running.PromptId, running.ExtraData));
        Assert.Equal(["run.succeeded", "run.failed"], running.Webhook?.Events);
        var unfinished = await runs.ListUnfinishedAsync(CancellationToken.None);
        Assert.Equal([(Running, "{\"3\":{\"class_type\":\"KSampler\",\"inputs\":{}}}"), (Queued, "{\"4\":{\"class_type\":\"CheckpointLoaderSimple\",\"inputs\":{}}}")], unfinished.Select(r => (r.Id, r.Workflow)));
        Assert.Equal([Queued, Running, Finished], (await runs.ListAsync(RunQuery.All, 10, null, CancellationToken.None)).Runs.Select(r => r.Id));
        Assert.Equal([Finished], (await runs.ListAsync(new RunQuery(RunStatus.Succeeded), 10, null, CancellationToken.None)).Runs.Select(r => r.Id));
        Assert.Equal([RunEventTypes.Queued, RunEventTypes.Dispatching, RunEventTypes.Started, RunEventTypes.Succeeded], (await runs.GetEventsAsync(Finished, 0, CancellationToken.None)).Select(e => e.Type));
        Assert.Equal([("d-c", WebhookDelivery.Delivered)], (await webhooks.ListAsync(Finished, CancellationToken.None)).Select(d => (d.Id, d.Status)));

        // The runs go on from where they were.
        var succeeded = running with { Status = RunStatus.Succeeded, FinishedAt = DateTimeOffset.FromUnixTimeMilliseconds(2300), LastEventSequence = 4 };
        Assert.True(await runs.TryUpdateAsync(succeeded, Event(Running, 4, RunEventTypes.Succeeded), 3, CancellationToken.None));
        var (replayed, created) = await runs.InsertAsync(NewRun("again", "order-a", "key-bbbbbbbb"), Event("again", 1, RunEventTypes.Queued), CancellationToken.None);
        Assert.False(created);
        Assert.Equal(Queued, replayed.Id);
        await runs.UpdateAsync(replayed with { Status = RunStatus.Cancelled, LastEventSequence = 2 }, Event(Queued, 2, RunEventTypes.Cancelled), CancellationToken.None);
        var later = await InsertAsync(runs, "later");
        Assert.True(later.Sequence > finished.Sequence && later.Sequence > running.Sequence && later.Sequence > replayed.Sequence, $"new run numbered {later.Sequence}");
        var read = await runs.GetAsync(Running, CancellationToken.None);
        Assert.Equal((RunStatus.Succeeded, "{\"ticket\":2}", "https://hooks.example/b"), (read?.Status, read?.Metadata, read?.Webhook?.Url));

        // Deleting runs deletes their bodies.
        Assert.Equal(4, await bodies());
        Assert.Equal([Running, Finished], (await runs.DeleteFinishedAsync("key-aaaaaaaa", null, CancellationToken.None)).Order(StringComparer.Ordinal));
        Assert.Equal([Queued], await runs.PruneAsync(0, null, CancellationToken.None));
        Assert.Equal(1, await bodies());
        Assert.Equal("later", (await runs.ListAsync(RunQuery.All, 10, null, CancellationToken.None)).Runs.Single().Id);
    }
}
