using System.Globalization;
using ComfyOperator.Testing.Kubelet;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace ComfyOperator.Testing.Cluster;

/// <summary>
/// A cluster in one process for end-to-end tests and benches: the Kubernetes API emulator with our
/// CRDs applied by the real kubectl, and the kubelet simulator (a ComfyUI simulator per pod on
/// 127.0.x.y). The operator and the router under test run against it (<see cref="KubeconfigPath"/>,
/// <see cref="RouterSettings"/>).
/// </summary>
public sealed class SimulatedCluster(string dir, KubeApiEmulator emulator, string kubeconfig, Kubectl kubectl, k8s.Kubernetes client, KubeletSimulator kubelet)
    : IAsyncDisposable
{
    public KubeApiEmulator Emulator => emulator;

    public string KubeconfigPath => kubeconfig;

    public Kubectl Kubectl => kubectl;

    /// <summary>The official client on the same kubeconfig.</summary>
    public k8s.Kubernetes Client => client;

    public KubeletSimulator Kubelet => kubelet;

    /// <summary>The repository checkout this code was built from (for config/crds and the like).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static async Task<SimulatedCluster> StartAsync(SimulatedClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dir = Directory.CreateTempSubdirectory("comfy-cluster-").FullName;
        var emulator = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = options.WatchHistoryCapacity }, cancellationToken);
        var kubeconfig = emulator.WriteKubeconfig(Path.Combine(dir, "kubeconfig"));
        var kubectl = new Kubectl(kubeconfig);
        var crds = await kubectl.RunAsync(["apply", "-f", Path.Combine(RepositoryRoot, "config", "crds")], cancellationToken: cancellationToken);
        if (!crds.Succeeded)
        {
            kubectl.Dispose();
            await emulator.DisposeAsync();
            Directory.Delete(dir, recursive: true);
            throw new InvalidOperationException($"kubectl apply of config/crds failed: {crds}");
        }

        var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        var kubelet = KubeletSimulator.Start(new KubeletSimulatorOptions
        {
            Kubeconfig = kubeconfig,
            AddressBlock = options.AddressBlock,
            PodStartDelay = options.PodStartDelay,
            InitContainerExitCode = options.InitContainerExitCode,
            ConfigureComfyUi = options.ConfigureComfyUi,
        });
        return new SimulatedCluster(dir, emulator, kubeconfig, kubectl, client, kubelet);
    }

    /// <summary>Creates a namespace named <paramref name="prefix"/> plus a random suffix and returns its name.</summary>
    public async Task<string> CreateNamespaceAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        // `kubectl create namespace` sends protobuf, which the emulator does not decode (415); create it as JSON.
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new() { Name = name } }, cancellationToken: cancellationToken);
        return name;
    }

    /// <summary>
    /// Settings of a router whose Kubernetes source watches <paramref name="namespace"/> of this cluster,
    /// with a fresh data directory, one API key, and <paramref name="port"/> on 127.0.0.1 (0: the host's default).
    /// </summary>
    public Dictionary<string, string> RouterSettings(string @namespace, string apiKey, int port = 0)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Router:DataDirectory"] = Path.Combine(dir, "router-" + Guid.NewGuid().ToString("N")),
            ["Router:ApiKeys:0"] = apiKey,
            ["Router:Kubernetes:Enabled"] = "true",
            ["Router:Kubernetes:Kubeconfig"] = KubeconfigPath,
            ["Router:Kubernetes:Namespaces:0"] = @namespace,
        };
        if (port != 0)
        {
            settings["Router:Host"] = "127.0.0.1";
            settings["Router:Port"] = port.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>A loopback port nothing listens on right now (for a listener started next).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Kubelet.DisposeAsync();
        Client.Dispose();
        Kubectl.Dispose();
        await Emulator.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ComfyOperator.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ComfyOperator.sln not found");
    }
}
