using ComfyOperator.Testing.S3;

namespace ComfyOperator.Router.Tests.Outputs;

/// <summary>xUnit wrapper that starts one s3rver per test class.</summary>
public sealed class S3rverServer : IAsyncLifetime
{
    public S3rverFixture Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await S3rverFixture.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
