using ComfyOperator.Testing.S3;

namespace ComfyOperator.Router.Tests.Outputs;

public sealed class S3OutageTests
{
    [Fact]
    public async Task SaveAsync_S3DownThenBack_RetriesUntilStored()
    {
        await using var server = await S3rverFixture.StartAsync();
        using var store = S3OutputStoreTests.CreateStore(server);
        var bytes = S3OutputStoreTests.RandomBytes(5000, 9);
        await server.StopAsync();

        var upload = store.SaveAsync("run-outage", "out.png", new MemoryStream(bytes), CancellationToken.None);
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (store.FailedAttempts < 2)
            {
                Assert.False(upload.IsCompleted, "the upload finished while S3 was down");
                await Task.Delay(50, deadline.Token);
            }
        }

        await server.RestartAsync();
        var size = await upload.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(5000, size);
        var stream = await store.OpenAsync("run-outage", "out.png", CancellationToken.None);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await using (stream)
        {
            await stream.CopyToAsync(copy);
        }

        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task SaveAsync_NoRetriesAndS3Down_FailsAfterOneAttempt()
    {
        await using var server = await S3rverFixture.StartAsync();
        using var store = S3OutputStoreTests.CreateStore(server, uploadRetries: 0);
        await server.StopAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => store.SaveAsync("run-no-retry", "out.png", new MemoryStream(new byte[100]), CancellationToken.None));

        Assert.Equal(0, store.FailedAttempts);
    }
}
