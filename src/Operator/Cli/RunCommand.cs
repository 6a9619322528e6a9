using System.CommandLine;
using ComfyOperator.Operator.Hosting;

namespace ComfyOperator.Operator.Cli;

/// <summary><c>comfy-operator run</c> (also the default verb): the operator itself.</summary>
internal static class RunCommand
{
    public static void AddTo(Command command)
    {
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig file (default: in-cluster, then KUBECONFIG, then ~/.kube/config)." };
        var namespaces = new Option<string[]>("--namespace", "-n") { Description = "Namespace to watch; repeat for several. Default: all.", AllowMultipleArgumentsPerToken = true };
        var leaderElection = new Option<bool>("--leader-election") { Description = "Run only while holding the Lease (for several replicas).", DefaultValueFactory = _ => true };
        var leaseNamespace = new Option<string?>("--lease-namespace") { Description = "Namespace of the Lease (default: the kubeconfig/pod namespace)." };
        var leaseName = new Option<string>("--lease-name") { Description = "Name of the Lease.", DefaultValueFactory = _ => "comfy-operator-leader" };
        var identity = new Option<string?>("--identity") { Description = "Identity in the Lease (default: POD_NAME, else host-pid)." };
        var probePeriod = new Option<int>("--probe-period") { Description = "Default seconds between probes.", DefaultValueFactory = _ => 10 };
        var probeTimeout = new Option<int>("--probe-timeout") { Description = "Default seconds one probe may take.", DefaultValueFactory = _ => 5 };
        var probeThreshold = new Option<int>("--probe-failure-threshold") { Description = "Default failed probes before Offline.", DefaultValueFactory = _ => 3 };
        var defaultImage = new Option<string>("--default-image") { Description = "ComfyUI image for nodes that name none.", DefaultValueFactory = _ => new OperatorOptions().DefaultImage };
        var operatorImage = new Option<string>("--operator-image") { Description = "Image with comfy-operator, for the sync-models init container.", DefaultValueFactory = _ => new OperatorOptions().OperatorImage };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Port of /metrics, /healthz and /readyz (0: off).", DefaultValueFactory = _ => OperatorOptions.DefaultMetricsPort };
        var workers = new Option<int>("--workers") { Description = "Reconciles in parallel.", DefaultValueFactory = _ => 16 };
        var scratchSizeLimit = new Option<string?>("--scratch-size-limit") { Description = "Size limit of each managed pod's scratch volume (ComfyUI's input, output and temp folders), e.g. 50Gi. Default: none." };
        var routerUrl = new Option<string?>("--router-url") { Description = $"Base URL of the router, asked which cordoned workers are drained (API key from {OperatorOptions.RouterApiKeyVariable}). Default: none, the operator's probe decides." };
        var routerTimeout = new Option<int>("--router-timeout") { Description = "Seconds one request to the router may take.", DefaultValueFactory = _ => 5 };
        var autoscaleInterval = new Option<int>("--autoscale-interval") { Description = "Seconds between looks at an autoscaled WorkflowDeployment's demand.", DefaultValueFactory = _ => 5 };
        foreach (var option in new Option[] { kubeconfig, namespaces, leaderElection, leaseNamespace, leaseName, identity, probePeriod, probeTimeout, probeThreshold, defaultImage, operatorImage, metricsPort, workers, routerUrl, routerTimeout, autoscaleInterval, scratchSizeLimit })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new OperatorOptions
            {
                Kubeconfig = parse.GetValue(kubeconfig),
                Namespaces = parse.GetValue(namespaces) ?? [],
                LeaderElection = parse.GetValue(leaderElection),
                LeaseNamespace = parse.GetValue(leaseNamespace),
                LeaseName = parse.GetValue(leaseName)!,
                Identity = parse.GetValue(identity) ?? Environment.GetEnvironmentVariable("POD_NAME") ?? new OperatorOptions().Identity,
                ProbePeriodSeconds = parse.GetValue(probePeriod),
                ProbeTimeoutSeconds = parse.GetValue(probeTimeout),
                ProbeFailureThreshold = parse.GetValue(probeThreshold),
                DefaultImage = parse.GetValue(defaultImage)!,
                OperatorImage = parse.GetValue(operatorImage)!,
                MetricsPort = parse.GetValue(metricsPort),
                Workers = parse.GetValue(workers),
                ScratchSizeLimit = parse.GetValue(scratchSizeLimit),
                WorkerCleanupSecret = Environment.GetEnvironmentVariable(OperatorOptions.WorkerCleanupSecretVariable) is { Length: > 0 } secret ? secret : null,
                RouterUrl = RouterUrl(parse.GetValue(routerUrl)),
                RouterApiKey = Environment.GetEnvironmentVariable(OperatorOptions.RouterApiKeyVariable),
                RouterTimeoutSeconds = parse.GetValue(routerTimeout),
                AutoscaleIntervalSeconds = parse.GetValue(autoscaleInterval),
            };
            return await RunAsync(options, parse.InvocationConfiguration.Error, cancellationToken);
        });
    }

    /// <summary>The URL as given (a trailing slash added so relative paths keep its path); a relative one is kept for <see cref="OperatorOptions.Validate"/> to name.</summary>
    private static Uri? RouterUrl(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.RelativeOrAbsolute, out var uri) ? uri
        : new Uri("invalid", UriKind.Relative);

    public static async Task<int> RunAsync(OperatorOptions options, TextWriter error, CancellationToken cancellationToken)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await error.WriteLineAsync("comfy-operator: invalid setting " + problem);
            }

            return 2;
        }

        OperatorHost host;
        try
        {
            host = OperatorHost.Create(options);
        }
        catch (InvalidOperationException e)
        {
            await error.WriteLineAsync("comfy-operator: invalid setting " + e.Message);
            return 2;
        }

        await using (host)
        {
            try
            {
                await host.RunAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C / SIGTERM: controllers stopped, Lease released by the elector.
            }
        }

        return 0;
    }
}
