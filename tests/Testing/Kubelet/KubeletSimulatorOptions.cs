using k8s.Models;

namespace ComfyOperator.Testing.Kubelet;

/// <summary>Settings of a <see cref="KubeletSimulator"/>.</summary>
public sealed class KubeletSimulatorOptions
{
    /// <summary>kubeconfig of the API server the simulator watches (e.g. the emulator's).</summary>
    public required string Kubeconfig { get; init; }

    /// <summary>Third octet of the 127.0.x.y addresses handed out; each pod gets its own y (2..254).</summary>
    public int AddressBlock { get; init; }

    /// <summary>
    /// Decides how an init container ends: null or 0 = success, anything else = that exit code
    /// (the pod then fails, like a real kubelet with restartPolicy Never).
    /// </summary>
    public Func<V1Pod, V1Container, int?>? InitContainerExitCode { get; init; }

    /// <summary>
    /// Time a pod stays Pending (containers creating) before its simulator starts and it is reported
    /// Running and Ready: image pull and ComfyUI start-up. Pods start in parallel; zero starts at once.
    /// </summary>
    public TimeSpan PodStartDelay { get; init; }

    /// <summary>Options for each pod's ComfyUI simulator (host and port are set per pod).</summary>
    public Action<V1Pod, ComfyUI.ComfyUiSimulatorOptions>? ConfigureComfyUi { get; init; }

    /// <summary>Start a ComfyUI simulator for pods that have a container named this.</summary>
    public string ComfyContainerName { get; init; } = "comfyui";
}
