using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Storage.Sqlite;
using ComfyOperator.Router.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Router.Tests.Webhooks;

public sealed class WebhookDispatcherTests : IAsyncLifetime, IDisposable
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Key);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "io-hooks-" + Guid.NewGuid().ToString("N"));
    private readonly List<IDisposable> _disposables = [];
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    public void Dispose()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task DeliverDueAsync_Signature_VerifiesWithIndependentVerifier()
    {
        var dispatcher = CreateDispatcher();
        await dispatcher.EnqueueAsync("run-1", WebhookEvents.Succeeded, _receiver.Url, new JsonObject { ["id"] = "run-1", ["status"] = "succeeded" }, CancellationToken.None);

        await DeliverUntilAsync(dispatcher, () => !_receiver.Received.IsEmpty);

        var received = Assert.Single(_receiver.Received);
        Assert.StartsWith("msg_", received.Id, StringComparison.Ordinal);
        // Independent verification, straight from the Standard Webhooks spec text.
        var expected = Convert.ToBase64String(HMACSHA256.HashData(
            Convert.FromBase64String(Secret["whsec_".Length..]),
            Encoding.UTF8.GetBytes(received.Id + "." + received.Timestamp + "." + received.Body)));
        Assert.Contains(received.Signature.Split(' '), signature => signature == "v1," + expected);
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("run.succeeded", body["type"]!.GetValue<string>());
        Assert.Equal("run-1", body["data"]!["id"]!.GetValue<string>());
        Assert.True(long.Parse(received.Timestamp) > 1_700_000_000);
    }

    [Fact]
    public async Task DeliverDueAsync_ReceiverFailsThenRecovers_RetriedUntilDelivered()
    {
        _receiver.FailuresLeft = 3;
        var dispatcher = CreateDispatcher();
        await dispatcher.EnqueueAsync("run-2", WebhookEvents.Failed, _receiver.Url, new JsonObject { ["id"] = "run-2" }, CancellationToken.None);

        await DeliverUntilAsync(dispatcher, () => !_receiver.Received.IsEmpty);

        Assert.Equal(4, _receiver.Attempts);
        var record = Assert.Single(await dispatcher.ListAsync("run-2", CancellationToken.None));
        Assert.Equal(WebhookDelivery.Delivered, record.Status);
        Assert.Equal(4, record.Attempts);
        Assert.Equal(204, record.LastStatusCode);
    }

    [Fact]
    public async Task EnqueueAsync_AfterRestart_NoDuplicateSuccessDelivery()
    {
        var dispatcher = CreateDispatcher();
        Assert.True(await dispatcher.EnqueueAsync("run-3", WebhookEvents.Succeeded, _receiver.Url, new JsonObject(), CancellationToken.None));
        await DeliverUntilAsync(dispatcher, () => !_receiver.Received.IsEmpty);

        var restarted = CreateDispatcher();
        var again = await restarted.EnqueueAsync("run-3", WebhookEvents.Succeeded, _receiver.Url, new JsonObject(), CancellationToken.None);
        await restarted.DeliverDueAsync(CancellationToken.None);

        Assert.False(again);
        Assert.Single(_receiver.Received);
        Assert.Single(await restarted.ListAsync("run-3", CancellationToken.None));
    }

    [Fact]
    public async Task DeliverDueAsync_PendingBeforeRestart_DeliveredAfterRestart()
    {
        _receiver.FailuresLeft = 1;
        var dispatcher = CreateDispatcher();
        await dispatcher.EnqueueAsync("run-4", WebhookEvents.Cancelled, _receiver.Url, new JsonObject(), CancellationToken.None);
        await dispatcher.DeliverDueAsync(CancellationToken.None);
        Assert.Empty(_receiver.Received);

        var restarted = CreateDispatcher();
        await DeliverUntilAsync(restarted, () => !_receiver.Received.IsEmpty);

        Assert.Single(_receiver.Received);
    }

    [Fact]
    public async Task DeliverDueAsync_RetryWindowClosed_MarkedFailed()
    {
        _receiver.FailuresLeft = 1000;
        var dispatcher = CreateDispatcher(window: TimeSpan.FromMilliseconds(50));
        await dispatcher.EnqueueAsync("run-5", WebhookEvents.Succeeded, _receiver.Url, new JsonObject(), CancellationToken.None);

        await DeliverUntilAsync(dispatcher, () => dispatcher.ListAsync("run-5", CancellationToken.None).Result[0].Status == WebhookDelivery.Failed);

        Assert.Empty(_receiver.Received);
    }

    [Theory]
    [InlineData("http://169.254.169.254/hook")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("ftp://example.com/hook")]
    public async Task EnqueueAsync_ForbiddenUrl_Refused(string url)
    {
        var dispatcher = CreateDispatcher();

        await Assert.ThrowsAsync<InputRefusedException>(() =>
            dispatcher.EnqueueAsync("run-6", WebhookEvents.Succeeded, url, new JsonObject(), CancellationToken.None));
    }

    private static async Task DeliverUntilAsync(WebhookDispatcher dispatcher, Func<bool> done)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!done())
        {
            await dispatcher.DeliverDueAsync(deadline.Token);
            await Task.Delay(20, deadline.Token);
        }
    }

    private WebhookDispatcher CreateDispatcher(TimeSpan? window = null)
    {
        var inputs = new InputCacheOptions();
        inputs.AllowedNetworks.Add("127.0.0.1/32");
        var http = new SafeHttpDownloader(inputs);
        var database = new SqliteRouterDatabase(Path.Combine(_directory, "router.db"));
        var store = new SqliteWebhookStore(database);
        var options = new WebhookOptions
        {
            Secret = Secret,
            InitialRetryDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromMilliseconds(40),
            RetryWindow = window ?? TimeSpan.FromMinutes(5),
        };
        var dispatcher = new WebhookDispatcher(store, http, options, TimeProvider.System, NullLogger<WebhookDispatcher>.Instance);
        _disposables.Add(http);
        _disposables.Add(database);
        _disposables.Add(dispatcher);
        return dispatcher;
    }
}
