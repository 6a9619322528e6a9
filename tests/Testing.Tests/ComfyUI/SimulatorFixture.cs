using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>One simulator shared by the tests of a class that do not depend on queue state.</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public ComfyUiSimulator Simulator { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Simulator = await ComfyUiSimulator.StartAsync();
        Http = new HttpClient { BaseAddress = Simulator.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Simulator.DisposeAsync();
    }
}
