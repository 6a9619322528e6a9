using ComfyOperator.Testing.Kubelet;
using ComfyOperator.Testing.Kubernetes;
using ComfyOperator.Testing.Tests.ComfyUI;
using k8s;
using k8s.Models;

namespace ComfyOperator.Testing.Tests.Kubelet;

/// <summary>The kubelet simulator's pod start delay and its prompt count across pods, on the emulator.</summary>
public sealed class KubeletSimulatorTests : IAsyncLifetime
{
    private const string Namespace = "kubelet";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static int s_block = 70;
    private readonly string _dir = Directory.CreateTempSubdirectory("kubelet-tests-").FullName;
    private KubeApiEmulator _emulator = null!;
    private k8s.Kubernetes _client = null!;
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _emulator = await KubeApiEmulator.StartAsync();
        _kubeconfig = _emulator.WriteKubeconfig(Path.Combine(_dir, "kubeconfig"));
        _client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_kubeconfig));
        await _client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new() { Name = Namespace } });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _emulator.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task PodStartDelay_PodIsPendingThatLong_ThenRunningWithItsSimulator()
    {
        var delay = TimeSpan.FromSeconds(1);
        await using var kubelet = Start(delay);
        var created = TimeProvider.System.GetTimestamp();
        await CreatePodAsync("slow");

        var pending = await WaitForPodAsync("slow", p => p.Status?.ContainerStatuses?.Any(c => c.State?.Waiting?.Reason == "ContainerCreating") == true, "the pod Pending with its containers creating");
        Assert.Equal("Pending", pending.Status.Phase);
        Assert.Null(kubelet.Simulator(Namespace, "slow"));

        var running = await WaitForPodAsync("slow", p => p.Status?.Phase == "Running", "the pod Running");
        Assert.True(TimeProvider.System.GetElapsedTime(created) >= delay, "the pod ran before its start delay was over");
        Assert.Contains(running.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
        using var http = new HttpClient { BaseAddress = kubelet.Simulator(Namespace, "slow")!.BaseAddress };
        Assert.True((await http.GetAsync("system_stats")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task PodStartDelay_PodDeletedWhileStarting_NeverRuns()
    {
        await using var kubelet = Start(TimeSpan.FromSeconds(1));
        await CreatePodAsync("gone");
        await WaitForPodAsync("gone", p => p.Status?.Phase == "Pending", "the first pod Pending");
        await DeletePodAsync("gone");

        // Created after the first was deleted, so its start comes after the first one's delay ended.
        await CreatePodAsync("next");
        await WaitForPodAsync("next", p => p.Status?.Phase == "Running", "the second pod Running");
        Assert.Equal(1, kubelet.PodsStarted);
        Assert.Equal(1, kubelet.RunningPods);
        Assert.Null(kubelet.Simulator(Namespace, "gone"));
    }

    [Fact]
    public async Task PromptsExecuted_CountsPodsSinceDeleted()
    {
        await using var kubelet = Start(TimeSpan.Zero);
        await CreatePodAsync("worker");
        await WaitForPodAsync("worker", p => p.Status?.Phase == "Running", "the pod Running");
        using (var http = new HttpClient { BaseAddress = kubelet.Simulator(Namespace, "worker")!.BaseAddress })
        {
            await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Sd15(), clientId: null));
        }

        Assert.Equal(1, kubelet.PromptsExecuted);
        await DeletePodAsync("worker");
        var deadline = TimeProvider.System.GetTimestamp();
        while (kubelet.RunningPods > 0 && TimeProvider.System.GetElapsedTime(deadline) < Timeout)
        {
            // Polling interval of the condition check.
            await Task.Delay(20);
        }

        Assert.Equal(0, kubelet.RunningPods);
        Assert.Equal(1, kubelet.PromptsExecuted);
    }

    private KubeletSimulator Start(TimeSpan podStartDelay) => KubeletSimulator.Start(new KubeletSimulatorOptions
    {
        Kubeconfig = _kubeconfig,
        AddressBlock = Interlocked.Increment(ref s_block),
        PodStartDelay = podStartDelay,
    });

    private Task<V1Pod> CreatePodAsync(string name) => _client.CoreV1.CreateNamespacedPodAsync(
        new V1Pod
        {
            Metadata = new() { Name = name },
            Spec = new() { Containers = [new V1Container { Name = "comfyui", Image = "comfyui:test", Ports = [new V1ContainerPort { ContainerPort = 8188 }] }] },
        },
        Namespace);

    private async Task DeletePodAsync(string name)
    {
        try
        {
            await _client.CoreV1.DeleteNamespacedPodAsync(name, Namespace);
        }
        catch (System.Text.Json.JsonException)
        {
            // A delete that finished at once is answered with a v1 Status, not the Pod the typed client expects.
        }
    }

    private async Task<V1Pod> WaitForPodAsync(string name, Func<V1Pod, bool> condition, string what)
    {
        var start = TimeProvider.System.GetTimestamp();
        V1Pod pod;
        do
        {
            pod = await _client.CoreV1.ReadNamespacedPodAsync(name, Namespace);
            if (condition(pod))
            {
                return pod;
            }

            // Polling interval of the condition check, not a wait for time to pass.
            await Task.Delay(20);
        }
        while (TimeProvider.System.GetElapsedTime(start) < Timeout);

        Assert.Fail($"timed out waiting for {what}; phase {pod.Status?.Phase}");
        return pod;
    }
}
