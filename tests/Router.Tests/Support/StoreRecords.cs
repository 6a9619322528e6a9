using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>Minimal runs and events for store tests.</summary>
internal static class StoreRecords
{
    public static async Task<RunRecord> InsertAsync(IRunStore store, string id, string? key = null, string? owner = null)
    {
        var (run, created) = await store.InsertAsync(NewRun(id, key, owner), Event(id, 1, RunEventTypes.Queued), CancellationToken.None);
        Assert.True(created, $"{id} was not created: {run.Id} came back for key {key}");
        return run;
    }

    public static RunRecord NewRun(string id, string? key, string? owner = null) => new()
    {
        Id = id,
        Workflow = "{}",
        IdempotencyKey = key,
        Owner = owner,
        QueuedAt = DateTimeOffset.UnixEpoch,
        LastEventSequence = 1,
    };

    public static RunEvent Event(string id, long sequence, string type) => new(id, sequence, type, "{}", DateTimeOffset.UnixEpoch);
}
