using System.Security.Cryptography.X509Certificates;

namespace ComfyOperator.Kubernetes.Configuration;

/// <summary>
/// Where the API server is and how to authenticate. Build one with <see cref="BuildDefaultConfig"/>
/// (in-cluster when running in a pod, else kubeconfig), <see cref="BuildConfigFromConfigFile"/> or
/// <see cref="InClusterConfig"/>; the names follow the official client.
/// </summary>
public sealed class KubernetesClientConfiguration
{
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The API server base address, e.g. <c>https://10.96.0.1:443</c>.</summary>
    public required Uri Host { get; init; }

    /// <summary>The default namespace (context namespace or the pod's namespace file); <c>default</c> when none.</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>The kubeconfig context this came from, if any.</summary>
    public string? CurrentContext { get; init; }

    /// <summary>Roots to trust for the server certificate; null means the system store.</summary>
    public X509Certificate2Collection? CaCertificates { get; init; }

    public X509Certificate2? ClientCertificate { get; init; }

    public bool SkipTlsVerify { get; init; }

    /// <summary>Server name to verify the certificate against instead of the host name.</summary>
    public string? TlsServerName { get; init; }

    public ITokenProvider? TokenProvider { get; init; }

    /// <summary>Basic auth (kubeconfig username/password); rare, kept for completeness.</summary>
    public (string User, string Password)? BasicAuth { get; init; }

    /// <summary>Timeout of one API request (not of a watch stream).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests are retried this many extra times on 429, and reads also on 5xx and connection errors.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>True when the pod environment (service host/port variables and token file) is present.</summary>
    public static bool IsInCluster() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")) &&
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT")) &&
        File.Exists(System.IO.Path.Combine(ServiceAccountDirectory, "token"));

    /// <summary>In-cluster config when running in a pod, otherwise kubeconfig (KUBECONFIG or ~/.kube/config).</summary>
    public static KubernetesClientConfiguration BuildDefaultConfig(TimeProvider? timeProvider = null) =>
        IsInCluster() ? InClusterConfig(timeProvider: timeProvider) : BuildConfigFromConfigFile(timeProvider: timeProvider);

    /// <summary>
    /// Loads kubeconfig: <paramref name="kubeconfigPath"/> when given (the <c>--kubeconfig</c> flag),
    /// else the <c>KUBECONFIG</c> path list merged (first file wins per entry), else <c>~/.kube/config</c>.
    /// </summary>
    public static KubernetesClientConfiguration BuildConfigFromConfigFile(
        string? kubeconfigPath = null,
        string? currentContext = null,
        string? masterUrl = null,
        TimeProvider? timeProvider = null) =>
        KubeconfigLoader.Load(
            KubeconfigLoader.ResolvePaths(kubeconfigPath, Environment.GetEnvironmentVariable("KUBECONFIG"), Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)),
            currentContext,
            masterUrl,
            timeProvider ?? TimeProvider.System);

    /// <summary>
    /// The pod's service account: <c>KUBERNETES_SERVICE_HOST/PORT</c>, the token (re-read as it
    /// rotates), <c>ca.crt</c> and the namespace file. Tests pass their own directory and environment.
    /// </summary>
    public static KubernetesClientConfiguration InClusterConfig(
        string? serviceAccountDirectory = null,
        Func<string, string?>? environment = null,
        TimeProvider? timeProvider = null) =>
        InClusterLoader.Load(serviceAccountDirectory ?? ServiceAccountDirectory, environment ?? Environment.GetEnvironmentVariable, timeProvider ?? TimeProvider.System);
}
