using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Time;

namespace ComfyOperator.Kubernetes.Tests.Configuration;

public sealed class KubeconfigTests
{
    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static (string CertPem, string KeyPem) SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task BuildConfigFromConfigFile_CurrentContext_ReadsServerTokenNamespaceAndCa()
    {
        using var dir = new TempDirectory();
        var (caPem, _) = SelfSigned("test-ca");
        var path = dir.Write("config", $"""
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: c1
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority-data: {B64(caPem)}
                tls-server-name: kubernetes
            users:
            - name: u1
              user:
                token: secret-token
            contexts:
            - name: dev
              context: {"{"}cluster: c1, user: u1, namespace: comfy{"}"}
            - name: other
              context: {"{"}cluster: c1, user: u1{"}"}
            """);

        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);

        Assert.Equal(new Uri("https://10.0.0.1:6443"), config.Host);
        Assert.Equal("comfy", config.Namespace);
        Assert.Equal("dev", config.CurrentContext);
        Assert.Equal("kubernetes", config.TlsServerName);
        Assert.Equal("CN=test-ca", Assert.Single(config.CaCertificates!).Subject);
        Assert.False(config.SkipTlsVerify);
        Assert.Equal("secret-token", await config.TokenProvider!.GetTokenAsync(false, default));
    }

    [Fact]
    public void BuildConfigFromConfigFile_ExplicitContextWithoutNamespace_DefaultsNamespace()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("config", """
            current-context: dev
            clusters: [{name: c1, cluster: {server: "http://127.0.0.1:1234", insecure-skip-tls-verify: true}}]
            users: [{name: u1, user: {}}]
            contexts: [{name: dev, context: {cluster: c1, user: u1, namespace: a}}, {name: other, context: {cluster: c1, user: u1}}]
            """);

        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, currentContext: "other");

        Assert.Equal("default", config.Namespace);
        Assert.True(config.SkipTlsVerify);
        Assert.Null(config.TokenProvider);
    }

    [Fact]
    public void BuildConfigFromConfigFile_ClientCertificateData_LoadsCertificateWithKey()
    {
        using var dir = new TempDirectory();
        var (certPem, keyPem) = SelfSigned("admin");
        var path = dir.Write("config", $"""
            current-context: x
            clusters: [{"{"}name: c, cluster: {"{"}server: "https://k:6443"{"}"}{"}"}]
            users: [{"{"}name: u, user: {"{"}client-certificate-data: {B64(certPem)}, client-key-data: {B64(keyPem)}{"}"}{"}"}]
            contexts: [{"{"}name: x, context: {"{"}cluster: c, user: u{"}"}{"}"}]
            """);

        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);

        Assert.NotNull(config.ClientCertificate);
        Assert.True(config.ClientCertificate.HasPrivateKey);
        Assert.Equal("CN=admin", config.ClientCertificate.Subject);
    }

    [Fact]
    public async Task BuildConfigFromConfigFile_RelativeFilePaths_ResolveAgainstTheKubeconfigDirectory()
    {
        using var dir = new TempDirectory();
        var (certPem, keyPem) = SelfSigned("file-user");
        var (caPem, _) = SelfSigned("file-ca");
        dir.Write("certs/ca.crt", caPem);
        dir.Write("certs/client.crt", certPem);
        dir.Write("certs/client.key", keyPem);
        dir.Write("certs/token", "file-token\n");
        var path = dir.Write("sub/../config", """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://k:6443", certificate-authority: certs/ca.crt}}]
            users: [{name: u, user: {client-certificate: certs/client.crt, client-key: certs/client.key, tokenFile: certs/token}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            """);

        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);

        Assert.Equal("CN=file-ca", config.CaCertificates![0].Subject);
        Assert.Equal("CN=file-user", config.ClientCertificate!.Subject);
        Assert.Equal("file-token", await config.TokenProvider!.GetTokenAsync(false, default));
    }

    [Fact]
    public async Task Load_KubeconfigPathList_MergesWithFirstFileWinning()
    {
        using var dir = new TempDirectory();
        var first = dir.Write("a", """
            current-context: from-a
            clusters: [{name: shared, cluster: {server: "https://first:1"}}]
            contexts: [{name: from-a, context: {cluster: shared, user: ub}}]
            """);
        var second = dir.Write("b", """
            current-context: from-b
            clusters: [{name: shared, cluster: {server: "https://second:2"}}, {name: only-b, cluster: {server: "https://b:3"}}]
            users: [{name: ub, user: {token: tb}}]
            contexts: [{name: from-b, context: {cluster: only-b, user: ub}}]
            """);

        var paths = KubeconfigLoader.ResolvePaths(null, $"{first}:{dir.Path}/missing:{second}", "/nonexistent-home");
        var merged = KubeconfigLoader.Load(paths, null, null, TimeProvider.System);
        var otherContext = KubeconfigLoader.Load(paths, "from-b", null, TimeProvider.System);

        Assert.Equal(new Uri("https://first:1"), merged.Host);
        Assert.Equal("from-a", merged.CurrentContext);
        Assert.Equal("tb", await merged.TokenProvider!.GetTokenAsync(false, default));
        Assert.Equal(new Uri("https://b:3"), otherContext.Host);
    }

    [Fact]
    public void ResolvePaths_NoExplicitNoVariable_UsesHomeKubeConfig()
    {
        Assert.Equal([Path.Combine("/home/u", ".kube", "config")], KubeconfigLoader.ResolvePaths(null, null, "/home/u"));
        Assert.Equal(["/explicit"], KubeconfigLoader.ResolvePaths("/explicit", "/a:/b", "/home/u"));
    }

    [Fact]
    public void BuildConfigFromConfigFile_UnknownContext_ThrowsNamingIt()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("config", """
            clusters: [{name: c, cluster: {server: "https://k:6443"}}]
            contexts: [{name: x, context: {cluster: c}}]
            """);

        var error = Assert.Throws<InvalidOperationException>(() => KubernetesClientConfiguration.BuildConfigFromConfigFile(path, currentContext: "nope"));
        Assert.Contains("nope", error.Message);
        Assert.Throws<InvalidOperationException>(() => KubernetesClientConfiguration.BuildConfigFromConfigFile(path));
    }

    [Fact]
    public async Task ExecPlugin_TokenWithExpiry_IsCachedUntilExpiryThenRerun()
    {
        using var dir = new TempDirectory();
        var counter = Path.Combine(dir.Path, "count");
        var script = dir.Write("plugin.sh", $$$"""
            #!/bin/sh
            n=$(cat {{{counter}}} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{{counter}}}
            case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) exit 3;; esac
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-'$n'-'$MY_ENV'","expirationTimestamp":"2025-01-02T04:00:00Z"}}'
            """);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = dir.Write("config", $$$"""
            current-context: x
            clusters: [{name: c, cluster: {server: "https://k:6443"}}]
            users:
            - name: u
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./plugin.sh
                  env: [{name: MY_ENV, value: hello}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            """);
        var time = new ManualTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 0, 0, TimeSpan.Zero));

        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, timeProvider: time);
        var first = await config.TokenProvider!.GetTokenAsync(false, default);
        var cached = await config.TokenProvider.GetTokenAsync(false, default);
        time.Advance(TimeSpan.FromHours(1));
        var afterExpiry = await config.TokenProvider.GetTokenAsync(false, default);
        var forced = await config.TokenProvider.GetTokenAsync(true, default);

        Assert.Equal("exec-1-hello", first);
        Assert.Equal("exec-1-hello", cached);
        Assert.Equal("exec-2-hello", afterExpiry);
        Assert.Equal("exec-3-hello", forced);
    }
}
