using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Keys;

/// <summary>What every <see cref="IUsageStore"/> must do over the run store's runs; one subclass per implementation.</summary>
public abstract class UsageStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task UsageAsync_RunsOfSeveralKeysAndWorkflows_CountsFailuresAndTimeOnWorkerInWindow()
    {
        await using var session = await Database.OpenAsync();
        await RunAsync(session.Runs, "old", "key-a", "sd15", Start.AddDays(-2), RunStatus.Succeeded, startedAfter: 1, tookSeconds: 100);
        await RunAsync(session.Runs, "a1", "key-a", "sd15", Start, RunStatus.Succeeded, startedAfter: 2, tookSeconds: 10);
        await RunAsync(session.Runs, "a2", "key-a", "sd15", Start.AddMinutes(1), RunStatus.Failed, startedAfter: 1, tookSeconds: 2.5);
        await RunAsync(session.Runs, "a3", "key-a", null, Start.AddMinutes(2), RunStatus.Succeeded, startedAfter: 0, tookSeconds: 4);
        await RunAsync(session.Runs, "b1", "key-b", "sd15", Start.AddMinutes(3), RunStatus.Queued, startedAfter: null, tookSeconds: null);

        var rows = await session.Usage.UsageAsync(Start, CancellationToken.None);

        Assert.Equal(
            [
                new UsageRow("key-a", null, 1, 0, 4),
                new UsageRow("key-a", "sd15", 2, 1, 12.5),
                new UsageRow("key-b", "sd15", 1, 0, 0),
            ],
            rows.OrderBy(r => r.Owner, StringComparer.Ordinal).ThenBy(r => r.Workflow ?? "", StringComparer.Ordinal));
    }

    private static async Task RunAsync(IRunStore store, string id, string owner, string? workflow, DateTimeOffset queued, RunStatus status, double? startedAfter, double? tookSeconds)
    {
        var run = StoreRecords.NewRun(id, null, owner) with { QueuedAt = queued, Deployment = workflow };
        var (inserted, _) = await store.InsertAsync(run, StoreRecords.Event(id, 1, RunEventTypes.Queued), CancellationToken.None);
        if (startedAfter is not { } after)
        {
            return;
        }

        var started = queued.AddSeconds(after);
        await store.UpdateAsync(
            inserted with
            {
                Status = status,
                DispatchedAt = started,
                StartedAt = started,
                FinishedAt = started.AddSeconds(tookSeconds ?? 0),
                LastEventSequence = 2,
            },
            StoreRecords.Event(id, 2, RunEventTypes.Succeeded),
            CancellationToken.None);
    }
}
