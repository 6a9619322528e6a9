namespace ComfyOperator.Router.Bench;

/// <summary>Dispatch latency on an idle simulated worker (needs the ComfyUI simulator).</summary>
internal static class DispatchBench
{
    public static Task RunAsync(int runs)
    {
        Console.WriteLine($"dispatch: not measured yet ({runs} runs requested); the ComfyUI simulator is not on main");
        return Task.CompletedTask;
    }
}
