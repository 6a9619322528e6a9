using System.Text.RegularExpressions;

namespace ComfyOperator.Operator.Hosting;

/// <summary>Settings of <c>comfy-operator run</c>; <see cref="Validate"/> names every bad one.</summary>
internal sealed partial record OperatorOptions
{
    /// <summary>kubeconfig file; null = in-cluster, else KUBECONFIG / ~/.kube/config.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>Namespaces to watch; empty = all.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    public bool LeaderElection { get; init; } = true;

    /// <summary>Namespace of the Lease; the kubeconfig / pod namespace when null.</summary>
    public string? LeaseNamespace { get; init; }

    public string LeaseName { get; init; } = "comfy-operator-leader";

    /// <summary>This instance's identity in the Lease (the pod name in a cluster).</summary>
    public string Identity { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    public int ProbePeriodSeconds { get; init; } = 10;

    public int ProbeTimeoutSeconds { get; init; } = 5;

    public int ProbeFailureThreshold { get; init; } = 3;

    public string DefaultImage { get; init; } = "ghcr.io/comfyoperator/comfyui:latest";

    public string OperatorImage { get; init; } = "ghcr.io/comfyoperator/comfy-operator:latest";

    /// <summary>The operator's own HTTP port unless told otherwise (the chart's <c>operator.metricsPort</c> default too).</summary>
    public const int DefaultMetricsPort = 8080;

    /// <summary>Port of /metrics, /healthz and /readyz; 0 turns the endpoint off.</summary>
    public int MetricsPort { get; init; } = DefaultMetricsPort;

    /// <summary>The environment variable the worker cleanup secret comes from (a Secret in the chart; never a flag, which <c>ps</c> would show).</summary>
    public const string WorkerCleanupSecretVariable = "COMFY_OPERATOR_WORKER_CLEANUP_TOKEN";

    /// <summary>Size limit of each managed pod's scratch emptyDir (a Kubernetes quantity such as <c>50Gi</c>); null = none.</summary>
    public string? ScratchSizeLimit { get; init; }

    /// <summary>The secret shared with the router's <c>Router:DiskCleanup:Token</c>; null = managed pods get no cleanup token.</summary>
    public string? WorkerCleanupSecret { get; init; }

    /// <summary>Reconciles that run at once (probes are I/O bound, so more than cores).</summary>
    public int Workers { get; init; } = 16;

    /// <summary>Environment variable holding the router's API key (the chart fills it from a Secret).</summary>
    public const string RouterApiKeyVariable = "COMFY_OPERATOR_ROUTER_API_KEY";

    /// <summary>
    /// Base URL of the router (<c>--router-url</c>): the operator asks it which cordoned workers are
    /// drained before it deletes them. Null = the operator's own probe decides (see <c>NodeDrainer</c>).
    /// </summary>
    public Uri? RouterUrl { get; init; }

    /// <summary>API key sent to the router (from <see cref="RouterApiKeyVariable"/>); never logged.</summary>
    public string? RouterApiKey { get; init; }

    /// <summary>Seconds between looks at an autoscaled WorkflowDeployment's demand.</summary>
    public int AutoscaleIntervalSeconds { get; init; } = 5;

    /// <summary>Seconds one request to the router may take.</summary>
    public int RouterTimeoutSeconds { get; init; } = 5;

    /// <summary>Every problem, each naming the setting (the command-line flag).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var ns in Namespaces)
        {
            if (!DnsLabel().IsMatch(ns))
            {
                errors.Add($"--namespace: '{ns}' is not a valid namespace name (lower-case letters, digits and '-', at most 63 characters)");
            }
        }

        if (LeaseNamespace is not null && !DnsLabel().IsMatch(LeaseNamespace))
        {
            errors.Add($"--lease-namespace: '{LeaseNamespace}' is not a valid namespace name");
        }

        if (!DnsLabel().IsMatch(LeaseName) && !Regex.IsMatch(LeaseName, "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))
        {
            errors.Add($"--lease-name: '{LeaseName}' is not a valid object name");
        }

        if (string.IsNullOrWhiteSpace(Identity))
        {
            errors.Add("--identity: must not be empty");
        }

        if (LeaderElection && !(LeaseDuration > RenewDeadline && RenewDeadline > RetryPeriod * 1.2))
        {
            errors.Add("--lease-duration/--renew-deadline/--retry-period: need lease duration > renew deadline > 1.2 x retry period");
        }

        if (ProbePeriodSeconds is < 1 or > 3600)
        {
            errors.Add($"--probe-period: {ProbePeriodSeconds} is out of range 1..3600 seconds");
        }

        if (ProbeTimeoutSeconds is < 1 or > 600)
        {
            errors.Add($"--probe-timeout: {ProbeTimeoutSeconds} is out of range 1..600 seconds");
        }

        if (ProbeFailureThreshold is < 1 or > 100)
        {
            errors.Add($"--probe-failure-threshold: {ProbeFailureThreshold} is out of range 1..100");
        }

        if (string.IsNullOrWhiteSpace(DefaultImage) || DefaultImage.Any(char.IsWhiteSpace))
        {
            errors.Add($"--default-image: '{DefaultImage}' is not an image reference");
        }

        if (string.IsNullOrWhiteSpace(OperatorImage) || OperatorImage.Any(char.IsWhiteSpace))
        {
            errors.Add($"--operator-image: '{OperatorImage}' is not an image reference");
        }

        if (MetricsPort is < 0 or > 65535)
        {
            errors.Add($"--metrics-port: {MetricsPort} is not a port (0 turns the endpoint off)");
        }

        if (Workers is < 1 or > 1024)
        {
            errors.Add($"--workers: {Workers} is out of range 1..1024");
        }

        if (ScratchSizeLimit is not null && !IsQuantity(ScratchSizeLimit))
        {
            errors.Add($"--scratch-size-limit: '{ScratchSizeLimit}' is not a Kubernetes quantity (such as 50Gi)");
        }

        if (WorkerCleanupSecret is { Length: > 0 and < 16 })
        {
            errors.Add($"{WorkerCleanupSecretVariable}: must have at least 16 characters");
        }

        if (RouterUrl is not null && (!RouterUrl.IsAbsoluteUri || (RouterUrl.Scheme != Uri.UriSchemeHttp && RouterUrl.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"--router-url: '{RouterUrl}' is not an http(s) URL");
        }

        if (AutoscaleIntervalSeconds is < 1 or > 3600)
        {
            errors.Add($"--autoscale-interval: {AutoscaleIntervalSeconds} is out of range 1..3600 seconds");
        }

        if (RouterTimeoutSeconds is < 1 or > 300)
        {
            errors.Add($"--router-timeout: {RouterTimeoutSeconds} is out of range 1..300 seconds");
        }

        if (Kubeconfig is not null && !File.Exists(Kubeconfig))
        {
            errors.Add($"--kubeconfig: file '{Kubeconfig}' does not exist");
        }

        return errors;
    }

    private static bool IsQuantity(string text)
    {
        try
        {
            return new k8s.Models.ResourceQuantity(text).ToDecimal() > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
