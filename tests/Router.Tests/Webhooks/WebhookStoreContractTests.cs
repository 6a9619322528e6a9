using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Webhooks;

namespace ComfyOperator.Router.Tests.Webhooks;

/// <summary>What every <see cref="IWebhookStore"/> must do; one subclass per implementation.</summary>
public abstract class WebhookStoreContractTests : StoreContractTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EnqueueAsync_SameRunEventAndUrl_AddedOnce()
    {
        await using var session = await Database.OpenAsync();
        var store = session.Webhooks;

        Assert.True(await store.EnqueueAsync("msg_1", "run-1", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None));
        Assert.False(await store.EnqueueAsync("msg_2", "run-1", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None));
        Assert.True(await store.EnqueueAsync("msg_3", "run-1", WebhookEvents.Succeeded, "https://b.example/", "{}", Now, CancellationToken.None));

        Assert.Equal(["msg_1", "msg_3"], (await store.ListAsync("run-1", CancellationToken.None)).Select(d => d.Id));
    }

    [Fact]
    public async Task ClaimDueAsync_AfterAttempts_OnlyPendingDueOnesLongestDueFirst()
    {
        await using var session = await Database.OpenAsync();
        var store = session.Webhooks;
        await store.EnqueueAsync("delivered", "run-1", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None);
        await store.EnqueueAsync("retry-later", "run-2", WebhookEvents.Failed, "https://a.example/", "{}", Now, CancellationToken.None);
        await store.EnqueueAsync("gave-up", "run-3", WebhookEvents.Cancelled, "https://a.example/", "{}", Now, CancellationToken.None);
        await store.EnqueueAsync("due-now", "run-4", WebhookEvents.Succeeded, "https://a.example/", "{\"n\":4}", Now.AddSeconds(1), CancellationToken.None);
        await store.EnqueueAsync("due-first", "run-5", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None);

        await store.RecordAttemptAsync("delivered", true, Now, null, 200, null, CancellationToken.None);
        await store.RecordAttemptAsync("retry-later", false, Now, Now.AddMinutes(1), 503, "HTTP 503", CancellationToken.None);
        await store.RecordAttemptAsync("gave-up", false, Now, null, null, "timed out", CancellationToken.None);

        Assert.Equal(["due-first"], (await store.ClaimDueAsync(Now.AddSeconds(2), Lease, 1, CancellationToken.None)).Select(d => d.Id));
        var due = await store.ClaimDueAsync(Now.AddSeconds(2), Lease, 10, CancellationToken.None);
        Assert.Equal(new PendingWebhook("due-now", "run-4", WebhookEvents.Succeeded, "https://a.example/", "{\"n\":4}", 0, Now.AddSeconds(1)), Assert.Single(due));
        Assert.Equal(["due-first", "due-now", "retry-later"], (await store.ClaimDueAsync(Now.AddMinutes(1), Lease, 10, CancellationToken.None)).Select(d => d.Id));
    }

    [Fact]
    public async Task ClaimDueAsync_ClaimedAndNotRecorded_DueAgainOnlyWhenTheLeaseEnds()
    {
        await using var session = await Database.OpenAsync();
        var store = session.Webhooks;
        await store.EnqueueAsync("msg_1", "run-1", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None);
        await store.EnqueueAsync("msg_2", "run-2", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None);
        Assert.Equal(2, (await store.ClaimDueAsync(Now, Lease, 10, CancellationToken.None)).Count);

        await store.RecordAttemptAsync("msg_2", false, Now.AddSeconds(1), Now.AddSeconds(5), 500, "HTTP 500", CancellationToken.None);

        Assert.Empty(await store.ClaimDueAsync(Now.AddSeconds(4), Lease, 10, CancellationToken.None));
        Assert.Equal(["msg_2"], (await store.ClaimDueAsync(Now.AddSeconds(5), Lease, 10, CancellationToken.None)).Select(d => d.Id));
        Assert.Equal(["msg_1"], (await store.ClaimDueAsync(Now + Lease, Lease, 10, CancellationToken.None)).Select(d => d.Id));
    }

    [Fact]
    public async Task ClaimDueAsync_ManyClaimsAtOnce_EachDeliveryClaimedOnce()
    {
        await using var session = await Database.OpenAsync();
        var store = session.Webhooks;
        for (var i = 0; i < 60; i++)
        {
            await store.EnqueueAsync($"msg_{i:00}", $"run-{i}", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.ClaimDueAsync(Now, Lease, 10, CancellationToken.None))));

        var claimed = claims.SelectMany(c => c).Select(d => d.Id).ToList();
        Assert.Equal(claimed.Distinct().Count(), claimed.Count);
        Assert.Equal(60, claimed.Count);
    }

    [Fact]
    public async Task Reopen_AfterAttempts_KeepsEveryDeliveryAndHowItWent()
    {
        await using (var session = await Database.OpenAsync())
        {
            await session.Webhooks.EnqueueAsync("msg_1", "run-1", WebhookEvents.Succeeded, "https://a.example/", "{}", Now, CancellationToken.None);
            await session.Webhooks.EnqueueAsync("msg_2", "run-1", WebhookEvents.Failed, "https://a.example/", "{}", Now.AddSeconds(1), CancellationToken.None);
            await session.Webhooks.RecordAttemptAsync("msg_1", false, Now.AddSeconds(2), Now.AddSeconds(10), 500, "HTTP 500", CancellationToken.None);
            await session.Webhooks.RecordAttemptAsync("msg_1", true, Now.AddSeconds(10), null, 204, null, CancellationToken.None);
            await session.Webhooks.RecordAttemptAsync("msg_2", false, Now.AddSeconds(3), null, null, "refused", CancellationToken.None);
        }

        await using var reopened = await Database.OpenAsync();
        var deliveries = await reopened.Webhooks.ListAsync("run-1", CancellationToken.None);

        Assert.Equal(
            [
                new WebhookDelivery("msg_1", "run-1", WebhookEvents.Succeeded, "https://a.example/", WebhookDelivery.Delivered, 2, Now, Now.AddSeconds(10), Now.AddSeconds(10), 204, null, Now.AddSeconds(10)),
                new WebhookDelivery("msg_2", "run-1", WebhookEvents.Failed, "https://a.example/", WebhookDelivery.Failed, 1, Now.AddSeconds(1), Now.AddSeconds(3), Now.AddSeconds(3), null, "refused", null),
            ],
            deliveries);
        Assert.Empty(await reopened.Webhooks.ClaimDueAsync(Now.AddDays(1), Lease, 10, CancellationToken.None));
    }
}
