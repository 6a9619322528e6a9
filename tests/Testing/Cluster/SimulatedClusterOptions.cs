using k8s.Models;

namespace ComfyOperator.Testing.Cluster;

/// <summary>Settings of a <see cref="SimulatedCluster"/>.</summary>
public sealed class SimulatedClusterOptions
{
    /// <summary>Watch history kept by the emulator; small values force 410 Gone on resume.</summary>
    public int WatchHistoryCapacity { get; init; } = 1000;

    /// <summary>Third octet of the kubelet's 127.0.x.y pod addresses; each cluster in one process needs its own.</summary>
    public required int AddressBlock { get; init; }

    /// <summary>How long each pod stays Pending before it runs (image pull, ComfyUI start-up).</summary>
    public TimeSpan PodStartDelay { get; init; }

    /// <summary>Changes the ComfyUI simulator of a pod before it starts (e.g. slow steps, model load).</summary>
    public Action<V1Pod, ComfyUI.ComfyUiSimulatorOptions>? ConfigureComfyUi { get; init; }

    /// <summary>Decides how an init container ends (see <see cref="Kubelet.KubeletSimulatorOptions.InitContainerExitCode"/>).</summary>
    public Func<V1Pod, V1Container, int?>? InitContainerExitCode { get; init; }
}
