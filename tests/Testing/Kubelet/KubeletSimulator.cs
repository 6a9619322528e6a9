using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Testing.ComfyUI;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ComfyOperator.Testing.Kubelet;

/// <summary>
/// A kubelet stand-in that talks to an API server (the emulator) over HTTP like a real one: it
/// watches pods, "runs" their init containers, gives each pod its own 127.0.x.y address and starts a
/// ComfyUI simulator there on the pod's container port, then reports the pod Running. With
/// <see cref="KubeletSimulatorOptions.PodStartDelay"/> the pod is reported Pending (containers
/// creating) for that long first, other pods starting meanwhile. Deleting a pod stops its simulator;
/// <see cref="CrashAsync"/> makes a pod fail.
/// </summary>
public sealed class KubeletSimulator : IAsyncDisposable
{
    private readonly KubeletSimulatorOptions _options;
    private readonly k8s.Kubernetes _client;
    private readonly ConcurrentDictionary<string, RunningPod> _pods = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<int> _freeAddresses = new(Enumerable.Range(2, 253));
    private readonly Channel<(WatchEventType Type, V1Pod Pod)> _events = Channel.CreateUnbounded<(WatchEventType Type, V1Pod Pod)>();
    private readonly CancellationTokenSource _stop = new();

    // Pods waiting out PodStartDelay (key → uid); a pod deleted meanwhile leaves this map and never starts.
    private readonly ConcurrentDictionary<string, string> _starting = new(StringComparer.Ordinal);
    private readonly List<Task> _delayedStarts = [];

    // One pod change at a time: the watch loop and the end of a delayed start.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _promptsOfStoppedPods;
    private Task? _watch;
    private Task? _work;

    private KubeletSimulator(KubeletSimulatorOptions options)
    {
        _options = options;
        _client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig));
    }

    /// <summary>Pods started so far (including ones since deleted).</summary>
    public int PodsStarted { get; private set; }

    /// <summary>Pods currently running a simulator.</summary>
    public int RunningPods => _pods.Count;

    /// <summary>Prompts executed by every pod's simulator so far, including pods since deleted or crashed.</summary>
    public long PromptsExecuted =>
        Interlocked.Read(ref _promptsOfStoppedPods) + _pods.Values.Sum(p => (long)(p.Simulator?.PromptsExecuted ?? 0));

    public static KubeletSimulator Start(KubeletSimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kubelet = new KubeletSimulator(options);
        kubelet._watch = Task.Run(() => kubelet.WatchAsync(kubelet._stop.Token));
        kubelet._work = Task.Run(() => kubelet.WorkAsync(kubelet._stop.Token));
        return kubelet;
    }

    /// <summary>The ComfyUI simulator serving a pod, or null when it is not running.</summary>
    public ComfyUiSimulator? Simulator(string @namespace, string podName) =>
        _pods.TryGetValue($"{@namespace}/{podName}", out var pod) ? pod.Simulator : null;

    /// <summary>All running simulators by pod key (namespace/name).</summary>
    public IReadOnlyDictionary<string, ComfyUiSimulator> Simulators =>
        _pods.Where(p => p.Value.Simulator is not null).ToDictionary(p => p.Key, p => p.Value.Simulator!, StringComparer.Ordinal);

    /// <summary>The pod's ComfyUI process dies: the simulator stops and the pod is reported Failed (exit 137).</summary>
    public async Task CrashAsync(string @namespace, string podName, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await StopPodAsync($"{@namespace}/{podName}");
        }
        finally
        {
            _gate.Release();
        }

        var pod = await _client.CoreV1.ReadNamespacedPodAsync(podName, @namespace, cancellationToken: cancellationToken);
        pod.Status ??= new V1PodStatus();
        pod.Status.Phase = "Failed";
        pod.Status.Reason = "Error";
        pod.Status.Message = "container comfyui exited with code 137";
        pod.Status.ContainerStatuses = [.. pod.Spec.Containers.Select(c => new V1ContainerStatus
        {
            Name = c.Name,
            Ready = false,
            State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 137, Reason = "Error" } },
        })];
        await _client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, podName, @namespace, fieldManager: "kubelet-simulator", cancellationToken: cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _events.Writer.TryComplete();
        Task[] delayed;
        lock (_delayedStarts)
        {
            delayed = [.. _delayedStarts];
        }

        foreach (var task in delayed.Append(_watch).Append(_work))
        {
            if (task is not null)
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        foreach (var pod in _pods.Values)
        {
            await pod.DisposeAsync();
        }

        _pods.Clear();
        _client.Dispose();
        _stop.Dispose();
        _gate.Dispose();
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        string? resourceVersion = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var list = await _client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: cancellationToken);
                    foreach (var pod in list.Items)
                    {
                        await _events.Writer.WriteAsync((WatchEventType.Added, pod), cancellationToken);
                    }

                    resourceVersion = list.Metadata.ResourceVersion;
                }

                Exception? error = null;
                await foreach (var (type, pod) in _client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: 300, onError: e => error ??= e, cancellationToken: cancellationToken))
                {
                    if (pod?.Metadata?.ResourceVersion is { } rv)
                    {
                        resourceVersion = rv;
                    }

                    if (type is WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted)
                    {
                        await _events.Writer.WriteAsync((type, pod!), cancellationToken);
                    }
                }

                if (error is not null)
                {
                    throw error;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (KubernetesException e) when (e.IsGone())
            {
                resourceVersion = null;
            }
#pragma warning disable CA1031 // A test kubelet keeps watching through any API hiccup, like the real one.
            catch (Exception)
#pragma warning restore CA1031
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            (WatchEventType Type, V1Pod Pod) change;
            try
            {
                change = await _events.Reader.ReadAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                return;
            }

            var pod = change.Pod;
            var key = pod.Metadata.Key();
            try
            {
                await _gate.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                if (change.Type == WatchEventType.Deleted || pod.Metadata.DeletionTimestamp is not null)
                {
                    _starting.TryRemove(key, out _);
                    await StopPodAsync(key);
                    continue;
                }

                if (_pods.ContainsKey(key) || _starting.ContainsKey(key) || pod.Status?.Phase is "Running" or "Failed" or "Succeeded")
                {
                    continue;
                }

                await StartPodAsync(pod, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One pod's trouble (e.g. deleted meanwhile) must not stop the kubelet.
            catch (Exception)
#pragma warning restore CA1031
            {
                _starting.TryRemove(key, out _);
                await StopPodAsync(key);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Stops a pod's simulator, if it runs one, and frees its address.</summary>
    private async Task StopPodAsync(string key)
    {
        if (_pods.TryRemove(key, out var gone))
        {
            Interlocked.Add(ref _promptsOfStoppedPods, gone.Simulator?.PromptsExecuted ?? 0);
            await gone.DisposeAsync();
            _freeAddresses.Enqueue(gone.Address);
        }
    }

    private async Task StartPodAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var key = pod.Metadata.Key();
        var status = new V1PodStatus { Phase = "Pending", HostIP = "127.0.0.1", StartTime = TimeProvider.System.GetUtcNow().UtcDateTime };
        var initStatuses = new List<V1ContainerStatus>();
        foreach (var init in pod.Spec.InitContainers ?? [])
        {
            var exit = _options.InitContainerExitCode?.Invoke(pod, init) ?? 0;
            initStatuses.Add(new V1ContainerStatus
            {
                Name = init.Name,
                Ready = exit == 0,
                State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exit, Reason = exit == 0 ? "Completed" : "Error", Message = exit == 0 ? null : $"{init.Name} exited with code {exit}" } },
            });
            if (exit != 0)
            {
                status.Phase = "Failed";
                status.Reason = "Error";
                status.Message = $"init container {init.Name} exited with code {exit}";
                status.InitContainerStatuses = initStatuses;
                await WriteStatusAsync(pod, status, cancellationToken);
                return;
            }
        }

        status.InitContainerStatuses = initStatuses.Count > 0 ? initStatuses : null;
        if (_options.PodStartDelay > TimeSpan.Zero)
        {
            // Image pull and ComfyUI start-up: the pod is Pending meanwhile, as a real kubelet reports it.
            status.ContainerStatuses = [.. pod.Spec.Containers.Select(c => new V1ContainerStatus
            {
                Name = c.Name,
                Ready = false,
                Image = c.Image,
                State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } },
            })];
            await WriteStatusAsync(pod, status, cancellationToken);
            _starting[key] = pod.Metadata.Uid;
            lock (_delayedStarts)
            {
                _delayedStarts.RemoveAll(t => t.IsCompleted);
                _delayedStarts.Add(Task.Run(() => StartAfterDelayAsync(pod, status, _stop.Token), CancellationToken.None));
            }

            return;
        }

        await RunPodAsync(pod, status, cancellationToken);
    }

    private async Task StartAfterDelayAsync(V1Pod pod, V1PodStatus status, CancellationToken cancellationToken)
    {
        var key = pod.Metadata.Key();
        try
        {
            await Task.Delay(_options.PodStartDelay, cancellationToken);
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            // Deleted (or replaced by a pod of the same name) while it was starting: it never runs.
            if (!_starting.TryRemove(new KeyValuePair<string, string>(key, pod.Metadata.Uid)))
            {
                return;
            }

            await RunPodAsync(pod, status, cancellationToken);
        }
#pragma warning disable CA1031 // As in the watch loop: one pod's trouble must not stop the kubelet.
        catch (Exception)
#pragma warning restore CA1031
        {
            await StopPodAsync(key);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts the pod's ComfyUI simulator on a free address and reports the pod Running and Ready.</summary>
    private async Task RunPodAsync(V1Pod pod, V1PodStatus status, CancellationToken cancellationToken)
    {
        var key = pod.Metadata.Key();
        if (!_freeAddresses.TryDequeue(out var octet))
        {
            throw new InvalidOperationException("The kubelet simulator ran out of 127.0.x.y addresses.");
        }

        var address = $"127.0.{_options.AddressBlock.ToString(CultureInfo.InvariantCulture)}.{octet.ToString(CultureInfo.InvariantCulture)}";
        ComfyUiSimulator? simulator = null;
        var comfy = pod.Spec.Containers.FirstOrDefault(c => c.Name == _options.ComfyContainerName);
        if (comfy is not null)
        {
            // Our ComfyUI image has the cleanup route; its token comes from the pod's environment, as in the image.
            var simulatorOptions = new ComfyUiSimulatorOptions
            {
                Host = address,
                Port = comfy.Ports?.FirstOrDefault()?.ContainerPort ?? 8188,
                CleanupToken = comfy.Env?.FirstOrDefault(e => e.Name == "COMFYOPERATOR_CLEANUP_TOKEN")?.Value ?? "",
            };
            _options.ConfigureComfyUi?.Invoke(pod, simulatorOptions);
            simulator = await ComfyUiSimulator.StartAsync(simulatorOptions, cancellationToken);
        }

        _pods[key] = new RunningPod(octet, simulator);
        PodsStarted++;
        status.Phase = "Running";
        status.PodIP = address;
        status.PodIPs = [new V1PodIP { Ip = address }];
        status.ContainerStatuses = [.. pod.Spec.Containers.Select(c => new V1ContainerStatus
        {
            Name = c.Name,
            Ready = true,
            Started = true,
            Image = c.Image,
            State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = TimeProvider.System.GetUtcNow().UtcDateTime } },
        })];
        status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }];
        await WriteStatusAsync(pod, status, cancellationToken);
    }

    private async Task WriteStatusAsync(V1Pod pod, V1PodStatus status, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await _client.CoreV1.ReadNamespacedPodAsync(pod.Metadata.Name!, pod.Metadata.NamespaceProperty!, cancellationToken: cancellationToken);
            if (current.Metadata.Uid != pod.Metadata.Uid)
            {
                return;
            }

            current.Status = status;
            try
            {
                await _client.CoreV1.ReplaceNamespacedPodStatusAsync(current, current.Metadata.Name!, current.Metadata.NamespaceProperty!, fieldManager: "kubelet-simulator", cancellationToken: cancellationToken);
                return;
            }
            catch (HttpOperationException e) when (e.IsConflict())
            {
                // Changed meanwhile; read again.
            }
        }
    }

    private sealed record RunningPod(int Address, ComfyUiSimulator? Simulator) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (Simulator is not null)
            {
                await Simulator.DisposeAsync();
            }
        }
    }
}
