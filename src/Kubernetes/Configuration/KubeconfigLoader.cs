using System.Security.Cryptography.X509Certificates;
using System.Text;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ComfyOperator.Kubernetes.Configuration;

/// <summary>Reads and merges kubeconfig files the way client-go's loader does (first file wins per entry).</summary>
internal static class KubeconfigLoader
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(NullNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    public static IReadOnlyList<string> ResolvePaths(string? explicitPath, string? kubeconfigVariable, string home)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return [explicitPath];
        }

        if (!string.IsNullOrEmpty(kubeconfigVariable))
        {
            return kubeconfigVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        return [Path.Combine(home, ".kube", "config")];
    }

    public static KubernetesClientConfiguration Load(IReadOnlyList<string> paths, string? contextName, string? masterUrl, TimeProvider timeProvider)
    {
        var merged = Merge(paths);
        contextName ??= merged.CurrentContext;
        if (string.IsNullOrEmpty(contextName))
        {
            throw new InvalidOperationException($"kubeconfig ({string.Join(", ", paths)}) has no current-context and none was given.");
        }

        if (!merged.Contexts.TryGetValue(contextName, out var context))
        {
            throw new InvalidOperationException($"kubeconfig has no context named '{contextName}'.");
        }

        if (context.Context.Cluster is null || !merged.Clusters.TryGetValue(context.Context.Cluster, out var cluster))
        {
            throw new InvalidOperationException($"kubeconfig context '{contextName}' names cluster '{context.Context.Cluster}', which is not defined.");
        }

        Located<KubeconfigUser>? user = null;
        if (context.Context.User is not null)
        {
            if (!merged.Users.TryGetValue(context.Context.User, out var found))
            {
                throw new InvalidOperationException($"kubeconfig context '{contextName}' names user '{context.Context.User}', which is not defined.");
            }

            user = found;
        }

        var server = masterUrl ?? cluster.Value.Server ?? throw new InvalidOperationException($"kubeconfig cluster '{context.Context.Cluster}' has no server.");
        X509Certificate2Collection? ca = null;
        if (!string.IsNullOrEmpty(cluster.Value.CertificateAuthorityData))
        {
            ca = [];
            ca.ImportFromPem(DecodeBase64(cluster.Value.CertificateAuthorityData, "certificate-authority-data"));
        }
        else if (!string.IsNullOrEmpty(cluster.Value.CertificateAuthority))
        {
            ca = [];
            ca.ImportFromPemFile(cluster.Resolve(cluster.Value.CertificateAuthority));
        }

        X509Certificate2? clientCertificate = null;
        ITokenProvider? tokenProvider = null;
        (string, string)? basic = null;
        if (user is { } u)
        {
            var certPem = !string.IsNullOrEmpty(u.Value.ClientCertificateData)
                ? DecodeBase64(u.Value.ClientCertificateData, "client-certificate-data")
                : !string.IsNullOrEmpty(u.Value.ClientCertificate) ? File.ReadAllText(u.Resolve(u.Value.ClientCertificate)) : null;
            var keyPem = !string.IsNullOrEmpty(u.Value.ClientKeyData)
                ? DecodeBase64(u.Value.ClientKeyData, "client-key-data")
                : !string.IsNullOrEmpty(u.Value.ClientKey) ? File.ReadAllText(u.Resolve(u.Value.ClientKey)) : null;
            if (certPem is not null && keyPem is not null)
            {
                clientCertificate = X509Certificate2.CreateFromPem(certPem, keyPem);
            }
            else if (certPem is not null || keyPem is not null)
            {
                throw new InvalidOperationException($"kubeconfig user '{context.Context.User}' has a client certificate without a key, or a key without a certificate.");
            }

            if (!string.IsNullOrEmpty(u.Value.Token))
            {
                tokenProvider = new StaticTokenProvider(u.Value.Token);
            }
            else if (!string.IsNullOrEmpty(u.Value.TokenFile))
            {
                tokenProvider = new FileTokenProvider(u.Resolve(u.Value.TokenFile), timeProvider);
            }
            else if (u.Value.Exec is not null)
            {
                tokenProvider = new ExecCredentialProvider(u.Value.Exec, u.Directory, timeProvider);
            }

            if (!string.IsNullOrEmpty(u.Value.Username) && u.Value.Password is not null)
            {
                basic = (u.Value.Username, u.Value.Password);
            }
        }

        return new KubernetesClientConfiguration
        {
            Host = new Uri(server),
            Namespace = string.IsNullOrEmpty(context.Context.Namespace) ? "default" : context.Context.Namespace,
            CurrentContext = contextName,
            CaCertificates = ca,
            ClientCertificate = clientCertificate,
            SkipTlsVerify = cluster.Value.InsecureSkipTlsVerify,
            TlsServerName = cluster.Value.TlsServerName,
            TokenProvider = tokenProvider,
            BasicAuth = basic,
        };
    }

    private static MergedKubeconfig Merge(IReadOnlyList<string> paths)
    {
        var merged = new MergedKubeconfig();
        var foundAny = false;
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                continue;
            }

            foundAny = true;
            var full = Path.GetFullPath(path);
            var directory = Path.GetDirectoryName(full) ?? Directory.GetCurrentDirectory();
            Kubeconfig? file;
            using (var reader = new StreamReader(full))
            {
                file = Deserializer.Deserialize<Kubeconfig>(reader);
            }

            if (file is null)
            {
                continue;
            }

            if (string.IsNullOrEmpty(merged.CurrentContext))
            {
                merged.CurrentContext = file.CurrentContext;
            }

            foreach (var c in file.Clusters ?? [])
            {
                if (c.Name is not null && c.Cluster is not null)
                {
                    merged.Clusters.TryAdd(c.Name, new Located<KubeconfigCluster>(c.Cluster, directory));
                }
            }

            foreach (var u in file.Users ?? [])
            {
                if (u.Name is not null)
                {
                    merged.Users.TryAdd(u.Name, new Located<KubeconfigUser>(u.User ?? new KubeconfigUser(), directory));
                }
            }

            foreach (var c in file.Contexts ?? [])
            {
                if (c.Name is not null && c.Context is not null)
                {
                    merged.Contexts.TryAdd(c.Name, new Located<KubeconfigNamedContext>(c, directory));
                }
            }
        }

        if (!foundAny)
        {
            throw new FileNotFoundException($"No kubeconfig found (looked at {string.Join(", ", paths)}).");
        }

        return merged;
    }

    private static string DecodeBase64(string value, string field)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim()));
        }
        catch (FormatException exception)
        {
            throw new InvalidOperationException($"kubeconfig field {field} is not valid base64.", exception);
        }
    }

    private sealed class MergedKubeconfig
    {
        public string? CurrentContext { get; set; }

        public Dictionary<string, Located<KubeconfigCluster>> Clusters { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Located<KubeconfigUser>> Users { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Located<KubeconfigNamedContext>> Contexts { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>An entry and the directory of the file it came from: relative paths inside a kubeconfig are relative to that file.</summary>
    private readonly record struct Located<T>(T Value, string Directory)
    {
        public KubeconfigContext Context => (Value as KubeconfigNamedContext)!.Context!;

        public string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(Directory, path));
    }
}
