using System.Security.Cryptography.X509Certificates;

namespace ComfyOperator.Kubernetes.Configuration;

internal static class InClusterLoader
{
    public static KubernetesClientConfiguration Load(string directory, Func<string, string?> environment, TimeProvider timeProvider)
    {
        var host = environment("KUBERNETES_SERVICE_HOST");
        var port = environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new InvalidOperationException("Not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set.");
        }

        var tokenPath = Path.Combine(directory, "token");
        if (!File.Exists(tokenPath))
        {
            throw new InvalidOperationException($"Not running in a cluster: no service-account token at {tokenPath}.");
        }

        // IPv6 service hosts ("fd00::1") need brackets in a URL.
        var hostPart = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        X509Certificate2Collection? ca = null;
        var caPath = Path.Combine(directory, "ca.crt");
        if (File.Exists(caPath))
        {
            ca = [];
            ca.ImportFromPemFile(caPath);
        }

        var namespacePath = Path.Combine(directory, "namespace");
        var ns = File.Exists(namespacePath) ? File.ReadAllText(namespacePath).Trim() : string.Empty;
        return new KubernetesClientConfiguration
        {
            Host = new Uri($"https://{hostPart}:{port}"),
            Namespace = ns.Length > 0 ? ns : "default",
            CaCertificates = ca,
            TokenProvider = new FileTokenProvider(tokenPath, timeProvider),
        };
    }
}
