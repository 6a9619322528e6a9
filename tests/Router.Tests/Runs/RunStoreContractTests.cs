using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Support;
using static ComfyOperator.Router.Tests.Support.StoreRecords;

namespace ComfyOperator.Router.Tests.Runs;

/// <summary>What every <see cref="IRunStore"/> must do; one subclass per implementation (SQLite, PostgreSQL).</summary>
public abstract class RunStoreContractTests : StoreContractTests
{
    [Fact]
    public async Task ListAsync_Paging_WalksNewestFirstWithoutGapsOrRepeats()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        for (var i = 0; i < 25; i++)
        {
            await InsertAsync(store, $"run-{i:00}");
        }

        var seen = new List<string>();
        long? before = null;
        do
        {
            var page = await store.ListAsync(RunQuery.All, 10, before, CancellationToken.None);
            seen.AddRange(page.Runs.Select(r => r.Id));
            before = page.NextBefore;
        }
        while (before is not null);

        Assert.Equal(Enumerable.Range(0, 25).Reverse().Select(i => $"run-{i:00}"), seen);
    }

    [Fact]
    public async Task ListAsync_StatusFilter_OnlyThatStatus()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var run = await InsertAsync(store, "a");
        await InsertAsync(store, "b");
        await store.UpdateAsync(run with { Status = RunStatus.Failed, LastEventSequence = 2 }, Event("a", 2, RunEventTypes.Failed), CancellationToken.None);

        var page = await store.ListAsync(new RunQuery(RunStatus.Failed), 10, null, CancellationToken.None);

        Assert.Equal(["a"], page.Runs.Select(r => r.Id));
        Assert.Null(page.NextBefore);
    }

    [Fact]
    public async Task TryUpdateAsync_TwoWritersFromOneState_OnlyTheFirstIsStored()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var queued = await InsertAsync(store, "a");

        // Two replicas claim the same queued run for their workers: one claim wins, the other writes nothing.
        var first = queued with { Status = RunStatus.Dispatching, Worker = "http://gpu1:8188/", PromptId = "p1", LastEventSequence = 2 };
        var second = queued with { Status = RunStatus.Dispatching, Worker = "http://gpu2:8188/", PromptId = "p2", LastEventSequence = 2 };
        Assert.True(await store.TryUpdateAsync(first, Event("a", 2, RunEventTypes.Dispatching), 1, CancellationToken.None));
        Assert.False(await store.TryUpdateAsync(second, Event("a", 2, RunEventTypes.Dispatching), 1, CancellationToken.None));
        Assert.False(await store.TryUpdateAsync(second with { LastEventSequence = 1 }, null, 1, CancellationToken.None));

        var stored = await store.GetAsync("a", CancellationToken.None);
        Assert.Equal(("http://gpu1:8188/", "p1", 2L), (stored!.Worker, stored.PromptId, stored.LastEventSequence));
        Assert.Equal([1L, 2L], (await store.GetEventsAsync("a", 0, CancellationToken.None)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task TryUpdateAsync_CancelRequestedMeanwhile_IsKept()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var running = (await InsertAsync(store, "a")) with { Status = RunStatus.Running, LastEventSequence = 2 };
        Assert.True(await store.TryUpdateAsync(running, Event("a", 2, RunEventTypes.Started), 1, CancellationToken.None));

        // A replica stores a cancel request (no event); the replica driving the run then writes progress from its older copy.
        Assert.True(await store.TryUpdateAsync(running with { CancelRequested = true }, null, 2, CancellationToken.None));
        Assert.True(await store.TryUpdateAsync(running with { LastEventSequence = 3 }, Event("a", 3, RunEventTypes.Progress), 2, CancellationToken.None));

        Assert.True((await store.GetAsync("a", CancellationToken.None))!.CancelRequested);
    }

    [Fact]
    public async Task ListAsync_WorkflowAndOwnerFilters_OnlyRunsMatchingEveryFilter()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        foreach (var (id, workflow, owner) in new[] { ("a", "sd15", "key-1"), ("b", "sd15", "key-2"), ("c", "flux", "key-1"), ("d", (string?)null, "key-1") })
        {
            var (_, created) = await store.InsertAsync(NewRun(id, key: null, owner) with { Deployment = workflow }, Event(id, 1, RunEventTypes.Queued), CancellationToken.None);
            Assert.True(created);
        }

        async Task<string[]> Ids(RunQuery query) => [.. (await store.ListAsync(query, 10, null, CancellationToken.None)).Runs.Select(r => r.Id)];

        Assert.Equal(["b", "a"], await Ids(new RunQuery(Workflow: "sd15")));
        Assert.Equal(["d", "c", "a"], await Ids(new RunQuery(Owner: "key-1")));
        Assert.Equal(["c"], await Ids(new RunQuery(Workflow: "flux", Owner: "key-1")));
        Assert.Empty(await Ids(new RunQuery(RunStatus.Failed, "sd15")));
        Assert.Equal(["d", "c", "b", "a"], await Ids(RunQuery.All));
    }

    [Fact]
    public async Task InsertWithinLimitsAsync_OwnerAtItsLimit_RefusedUntilOneOfItsRunsLeavesTheQueue()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var limits = new PendingLimits(PerOwner: 2, PerDeployment: null);
        var first = await InsertWithinAsync(store, "a1", "key-a", null, limits);
        await InsertWithinAsync(store, "a2", "key-a", null, limits);

        Assert.Equal(SubmitOutcome.OwnerLimitReached, (await InsertWithinAsync(store, "a3", "key-a", null, limits, expectCreated: false)).Outcome);
        Assert.Null(await store.GetAsync("a3", CancellationToken.None));
        await InsertWithinAsync(store, "b1", "key-b", null, limits);

        // Claimed for a worker: no longer pending, so the owner may queue another.
        Assert.True(await store.TryUpdateAsync(first.Run! with { Status = RunStatus.Dispatching, LastEventSequence = 2 }, Event("a1", 2, RunEventTypes.Dispatching), 1, CancellationToken.None));
        await InsertWithinAsync(store, "a3", "key-a", null, limits);
    }

    [Fact]
    public async Task InsertWithinLimitsAsync_WorkflowAtItsLimit_RefusedForThatWorkflowOnly()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var limits = new PendingLimits(PerOwner: 10, PerDeployment: 1);
        await InsertWithinAsync(store, "s1", "key-a", "sd15", limits);

        var refused = await InsertWithinAsync(store, "s2", "key-b", "sd15", limits, expectCreated: false);

        Assert.Equal((SubmitOutcome.DeploymentLimitReached, (RunRecord?)null), (refused.Outcome, refused.Run));
        await InsertWithinAsync(store, "f1", "key-a", "flux", limits);
        await InsertWithinAsync(store, "raw", "key-a", null, limits);
    }

    [Fact]
    public async Task InsertWithinLimitsAsync_RunPlacedOnItsWorker_StoredDispatchingWithBothEventsAndNotCountedAsQueued()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var limits = new PendingLimits(PerOwner: 1, PerDeployment: null);
        var placed = NewRun("p1", null, "key-a") with
        {
            Status = RunStatus.Dispatching,
            Worker = "http://gpu1:8188/",
            PromptId = "prompt-1",
            ClientId = "client-1",
            Attempts = 1,
            DispatchedAt = DateTimeOffset.UnixEpoch,
            LastEventSequence = 2,
        };

        var result = await store.InsertWithinLimitsAsync(placed, [Event("p1", 1, RunEventTypes.Queued), Event("p1", 2, RunEventTypes.Dispatching)], limits, CancellationToken.None);

        Assert.Equal(SubmitOutcome.Created, result.Outcome);
        var stored = await store.GetAsync("p1", CancellationToken.None);
        Assert.Equal(
            (RunStatus.Dispatching, "http://gpu1:8188/", "prompt-1", "client-1", 1, (DateTimeOffset?)DateTimeOffset.UnixEpoch, 2L),
            (stored!.Status, stored.Worker, stored.PromptId, stored.ClientId, stored.Attempts, stored.DispatchedAt, stored.LastEventSequence));
        Assert.Equal([(1L, RunEventTypes.Queued), (2L, RunEventTypes.Dispatching)], (await store.GetEventsAsync("p1", 0, CancellationToken.None)).Select(e => (e.Sequence, e.Type)));

        // On its worker, it is not one of the owner's queued runs.
        await InsertWithinAsync(store, "q1", "key-a", null, limits);
    }

    [Fact]
    public async Task InsertWithinLimitsAsync_KeyUsedBeforeAtTheLimit_ReplaysTheRun()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var limits = new PendingLimits(PerOwner: 1, PerDeployment: null);
        await store.InsertWithinLimitsAsync(NewRun("a1", "order-1", "key-a"), [Event("a1", 1, RunEventTypes.Queued)], limits, CancellationToken.None);

        var again = await store.InsertWithinLimitsAsync(NewRun("a2", "order-1", "key-a"), [Event("a2", 1, RunEventTypes.Queued)], limits, CancellationToken.None);

        Assert.Equal((SubmitOutcome.Replayed, "a1"), (again.Outcome, again.Run?.Id));
    }

    [Fact]
    public async Task InsertWithinLimitsAsync_ManyAtOnceForOneOwner_ExactlyTheLimitStored()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var limits = new PendingLimits(PerOwner: 5, PerDeployment: 8);

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            store.InsertWithinLimitsAsync(NewRun($"r{i}", null, "key-a") with { Deployment = "sd15" }, [Event($"r{i}", 1, RunEventTypes.Queued)], limits, CancellationToken.None))));

        Assert.Equal(5, results.Count(r => r.Outcome == SubmitOutcome.Created));
        Assert.Equal(35, results.Count(r => r.Outcome == SubmitOutcome.OwnerLimitReached));
        Assert.Equal(5, (await store.ListAsync(new RunQuery(RunStatus.Queued, Owner: "key-a"), 100, null, CancellationToken.None)).Runs.Count);
    }

    private static async Task<SubmitResult> InsertWithinAsync(IRunStore store, string id, string owner, string? workflow, PendingLimits limits, bool expectCreated = true)
    {
        var result = await store.InsertWithinLimitsAsync(NewRun(id, null, owner) with { Deployment = workflow }, [Event(id, 1, RunEventTypes.Queued)], limits, CancellationToken.None);
        Assert.Equal(expectCreated, result.Outcome == SubmitOutcome.Created);
        return result;
    }

    [Fact]
    public async Task InsertAsync_SameIdempotencyKey_ReturnsOriginal()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var first = await InsertAsync(store, "first", key: "order-7");

        var (second, created) = await store.InsertAsync(NewRun("second", "order-7"), Event("second", 1, RunEventTypes.Queued), CancellationToken.None);

        Assert.False(created);
        Assert.Equal(first.Id, second.Id);
        Assert.Null(await store.GetAsync("second", CancellationToken.None));
    }

    [Fact]
    public async Task InsertAsync_SameKeyDifferentOwners_CreatesOneRunEach()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        await InsertAsync(store, "a", key: "order-7", owner: "key-aaaaaaaa");
        await InsertAsync(store, "b", key: "order-7", owner: "key-bbbbbbbb");
        await InsertAsync(store, "anonymous", key: "order-7", owner: null);

        var (again, created) = await store.InsertAsync(NewRun("again", "order-7", "key-bbbbbbbb"), Event("again", 1, RunEventTypes.Queued), CancellationToken.None);
        var (anonymousAgain, anonymousCreated) = await store.InsertAsync(NewRun("anonymous-again", "order-7", null), Event("anonymous-again", 1, RunEventTypes.Queued), CancellationToken.None);

        Assert.False(created);
        Assert.Equal("b", again.Id);
        Assert.False(anonymousCreated);
        Assert.Equal("anonymous", anonymousAgain.Id);
        Assert.Equal("a", (await store.GetByIdempotencyKeyAsync("key-aaaaaaaa", "order-7", CancellationToken.None))?.Id);
        Assert.Equal("b", (await store.GetByIdempotencyKeyAsync("key-bbbbbbbb", "order-7", CancellationToken.None))?.Id);
        Assert.Equal("anonymous", (await store.GetByIdempotencyKeyAsync(null, "order-7", CancellationToken.None))?.Id);
        Assert.Null(await store.GetByIdempotencyKeyAsync("key-cccccccc", "order-7", CancellationToken.None));
    }

    [Fact]
    public async Task InsertAsync_ConcurrentSameKeyFromTwoOwners_ExactlyOneRunPerOwner()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        string[] owners = ["key-aaaaaaaa", "key-bbbbbbbb"];

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            store.InsertAsync(NewRun($"run-{i}", "same", owners[i % 2]), Event($"run-{i}", 1, RunEventTypes.Queued), CancellationToken.None))));

        Assert.Equal(2, results.Count(r => r.Created));
        foreach (var owner in owners)
        {
            var theirs = results.Where(r => r.Run.Owner == owner).ToList();
            Assert.Equal(20, theirs.Count);
            Assert.Single(theirs.Select(r => r.Run.Id).Distinct());
        }

        var stored = await store.ListAsync(RunQuery.All, 100, null, CancellationToken.None);
        Assert.Equal(owners, stored.Runs.Select(r => r.Owner).Order());
    }

    [Fact]
    public async Task Reopen_AfterRestart_KeepsRunsEventsAndState()
    {
        await using (var storeSession = await Database.OpenAsync())
        {
            var store = storeSession.Runs;
            var run = await InsertAsync(store, "keep");
            var running = run with
            {
                Status = RunStatus.Running,
                Worker = "http://gpu1:8188/",
                PromptId = "p-1",
                ClientId = "c-1",
                Attempts = 1,
                LastEventSequence = 2,
                Failure = new RunFailure("x", "y", "3", "KSampler"),
                Outputs = [new RunOutput("a.png", "9", "image/png", 10)],
            };
            await store.UpdateAsync(running, Event("keep", 2, RunEventTypes.Started), CancellationToken.None);
        }

        await using var reopenedSession = await Database.OpenAsync();
        var reopened = reopenedSession.Runs;
        var loaded = await reopened.GetAsync("keep", CancellationToken.None);
        var unfinished = await reopened.ListUnfinishedAsync(CancellationToken.None);
        var events = await reopened.GetEventsAsync("keep", 0, CancellationToken.None);

        Assert.NotNull(loaded);
        Assert.Equal(RunStatus.Running, loaded.Status);
        Assert.Equal("p-1", loaded.PromptId);
        Assert.Equal("c-1", loaded.ClientId);
        Assert.Equal("KSampler", loaded.Failure?.NodeType);
        Assert.Equal("a.png", Assert.Single(loaded.Outputs).Name);
        Assert.Equal(["keep"], unfinished.Select(r => r.Id));
        Assert.Equal([RunEventTypes.Queued, RunEventTypes.Started], events.Select(e => e.Type));
    }

    [Fact]
    public async Task PruneAsync_BeyondHistoryLimit_RemovesOldestFinishedOnly()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        for (var i = 0; i < 5; i++)
        {
            var run = await InsertAsync(store, $"done-{i}");
            await store.UpdateAsync(run with { Status = RunStatus.Succeeded, FinishedAt = DateTimeOffset.UnixEpoch.AddSeconds(i), LastEventSequence = 2 }, null, CancellationToken.None);
        }

        await InsertAsync(store, "waiting");

        var pruned = await store.PruneAsync(2, null, CancellationToken.None);

        Assert.Equal(["done-0", "done-1", "done-2"], pruned.Order());
        Assert.NotNull(await store.GetAsync("waiting", CancellationToken.None));
        Assert.Empty(await store.GetEventsAsync("done-0", 0, CancellationToken.None));
    }

    [Fact]
    public async Task PruneAsync_OlderThanAge_RemovesThemEvenUnderLimit()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var old = await InsertAsync(store, "old");
        await store.UpdateAsync(old with { Status = RunStatus.Failed, FinishedAt = DateTimeOffset.UnixEpoch }, null, CancellationToken.None);
        var recent = await InsertAsync(store, "recent");
        await store.UpdateAsync(recent with { Status = RunStatus.Failed, FinishedAt = DateTimeOffset.UnixEpoch.AddDays(10) }, null, CancellationToken.None);

        var pruned = await store.PruneAsync(100, DateTimeOffset.UnixEpoch.AddDays(1), CancellationToken.None);

        Assert.Equal(["old"], pruned);
    }

    [Fact]
    public async Task PruneAsync_MoreThanOneBatchBeyondLimit_RemovesAllButTheNewest()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        const int total = 1_210;
        for (var i = 0; i < total; i += 110)
        {
            await Task.WhenAll(Enumerable.Range(i, 110).Select(n => FinishedAsync(store, $"done-{n:0000}", DateTimeOffset.UnixEpoch.AddSeconds(n))));
        }

        var newest = (await store.ListAsync(RunQuery.All, 10, null, CancellationToken.None)).Runs.Select(r => r.Id).ToList();

        var pruned = await store.PruneAsync(10, null, CancellationToken.None);

        Assert.Equal(total - 10, pruned.Distinct().Count());
        Assert.Equal(total - 10, pruned.Count);
        Assert.Empty(pruned.Intersect(newest));
        Assert.Equal(newest, (await store.ListAsync(RunQuery.All, 100, null, CancellationToken.None)).Runs.Select(r => r.Id));
    }

    [Fact]
    public async Task PruneAsync_BeyondLimitAndOlderThanAge_RemovesEachOnce()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        for (var i = 0; i < 4; i++)
        {
            await FinishedAsync(store, $"done-{i}", DateTimeOffset.UnixEpoch.AddDays(i));
        }

        var pruned = await store.PruneAsync(2, DateTimeOffset.UnixEpoch.AddDays(2.5), CancellationToken.None);

        Assert.Equal(["done-0", "done-1", "done-2"], pruned.Order());
    }

    [Fact]
    public async Task CountFinishedAsync_MixedStatuses_CountsOnlyFinishedAndFollowsPruning()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        await InsertAsync(store, "waiting");
        var running = await InsertAsync(store, "running");
        await store.UpdateAsync(running with { Status = RunStatus.Running, LastEventSequence = 2 }, null, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await FinishedAsync(store, $"done-{i}", DateTimeOffset.UnixEpoch.AddSeconds(i));
        }

        var cancelled = await InsertAsync(store, "cancelled");
        await store.UpdateAsync(cancelled with { Status = RunStatus.Cancelled, FinishedAt = DateTimeOffset.UnixEpoch, LastEventSequence = 2 }, null, CancellationToken.None);

        Assert.Equal(4, await store.CountFinishedAsync(CancellationToken.None));
        await store.PruneAsync(1, null, CancellationToken.None);
        Assert.Equal(1, await store.CountFinishedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DeleteFinishedAsync_NamedIds_DeletesOnlyTheOwnersFinishedRunsWithTheirEvents()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        var mine = await FinishedAsync(store, "mine", DateTimeOffset.UnixEpoch, "alice");
        await store.UpdateAsync(mine with { LastEventSequence = 3 }, Event("mine", 3, RunEventTypes.Succeeded), CancellationToken.None);
        await FinishedAsync(store, "kept", DateTimeOffset.UnixEpoch, "alice");
        await FinishedAsync(store, "theirs", DateTimeOffset.UnixEpoch, "bob");
        await InsertAsync(store, "waiting", owner: "alice");

        var deleted = await store.DeleteFinishedAsync("alice", ["mine", "theirs", "waiting", "unknown"], CancellationToken.None);

        Assert.Equal(["mine"], deleted);
        Assert.Null(await store.GetAsync("mine", CancellationToken.None));
        Assert.Empty(await store.GetEventsAsync("mine", 0, CancellationToken.None));
        Assert.NotNull(await store.GetAsync("kept", CancellationToken.None));
        Assert.NotNull(await store.GetAsync("theirs", CancellationToken.None));
        Assert.Equal(RunStatus.Queued, (await store.GetAsync("waiting", CancellationToken.None))!.Status);
        Assert.Single(await store.GetEventsAsync("waiting", 0, CancellationToken.None));
        Assert.Equal(2, await store.CountFinishedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DeleteFinishedAsync_AllOfAnOwner_ClearsOnlyThatOwnersFinishedRuns()
    {
        await using var storeSession = await Database.OpenAsync();
        var store = storeSession.Runs;
        await FinishedAsync(store, "a1", DateTimeOffset.UnixEpoch, "alice");
        await FinishedAsync(store, "a2", DateTimeOffset.UnixEpoch.AddSeconds(1), "alice");
        await FinishedAsync(store, "b1", DateTimeOffset.UnixEpoch, "bob");
        await FinishedAsync(store, "anonymous", DateTimeOffset.UnixEpoch, null);
        var running = await InsertAsync(store, "running", owner: "alice");
        await store.UpdateAsync(running with { Status = RunStatus.Running, LastEventSequence = 2 }, null, CancellationToken.None);

        var alices = await store.DeleteFinishedAsync("alice", null, CancellationToken.None);
        var anonymous = await store.DeleteFinishedAsync(null, null, CancellationToken.None);

        Assert.Equal(["a1", "a2"], alices.Order());
        Assert.Equal(["anonymous"], anonymous);
        Assert.Equal(["b1", "running"], (await store.ListAsync(RunQuery.All, 10, null, CancellationToken.None)).Runs.Select(r => r.Id).Order());
        Assert.Empty(await store.DeleteFinishedAsync("alice", null, CancellationToken.None));
    }

    private static async Task<RunRecord> FinishedAsync(IRunStore store, string id, DateTimeOffset finishedAt, string? owner)
    {
        var run = await InsertAsync(store, id, owner: owner) with { Status = RunStatus.Succeeded, FinishedAt = finishedAt, LastEventSequence = 2 };
        await store.UpdateAsync(run, null, CancellationToken.None);
        return run;
    }

    private static async Task FinishedAsync(IRunStore store, string id, DateTimeOffset finishedAt)
    {
        var run = await InsertAsync(store, id);
        await store.UpdateAsync(run with { Status = RunStatus.Succeeded, FinishedAt = finishedAt, LastEventSequence = 2 }, null, CancellationToken.None);
    }
}
