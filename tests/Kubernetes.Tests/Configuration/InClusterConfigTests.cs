using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Kubernetes.Tests.Support;
using ComfyOperator.Testing.Time;

namespace ComfyOperator.Kubernetes.Tests.Configuration;

public sealed class InClusterConfigTests
{
    private static Func<string, string?> Env(string host, string port) =>
        name => name switch { "KUBERNETES_SERVICE_HOST" => host, "KUBERNETES_SERVICE_PORT" => port, _ => null };

    private static string CaPem()
    {
        using var key = RSA.Create(2048);
        using var cert = new CertificateRequest("CN=cluster-ca", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return cert.ExportCertificatePem();
    }

    [Fact]
    public async Task InClusterConfig_ServiceAccountFiles_ReadsHostTokenCaAndNamespace()
    {
        using var dir = new TempDirectory();
        dir.Write("token", "tok-1\n");
        dir.Write("ca.crt", CaPem());
        dir.Write("namespace", "comfy-system\n");

        var config = KubernetesClientConfiguration.InClusterConfig(dir.Path, Env("10.96.0.1", "443"));

        Assert.Equal(new Uri("https://10.96.0.1:443"), config.Host);
        Assert.Equal("comfy-system", config.Namespace);
        Assert.Equal("CN=cluster-ca", Assert.Single(config.CaCertificates!).Subject);
        Assert.Equal("tok-1", await config.TokenProvider!.GetTokenAsync(false, default));
    }

    [Fact]
    public void InClusterConfig_Ipv6Host_IsBracketed()
    {
        using var dir = new TempDirectory();
        dir.Write("token", "t");

        var config = KubernetesClientConfiguration.InClusterConfig(dir.Path, Env("fd00:10:96::1", "6443"));

        Assert.Equal("https://[fd00:10:96::1]:6443/", config.Host.ToString());
        Assert.Equal("default", config.Namespace);
        Assert.Null(config.CaCertificates);
    }

    [Fact]
    public void InClusterConfig_MissingEnvironment_Throws()
    {
        using var dir = new TempDirectory();
        dir.Write("token", "t");

        Assert.Throws<InvalidOperationException>(() => KubernetesClientConfiguration.InClusterConfig(dir.Path, _ => null));
        Assert.Throws<InvalidOperationException>(() => KubernetesClientConfiguration.InClusterConfig(Path.Combine(dir.Path, "none"), Env("h", "1")));
    }

    [Fact]
    public async Task TokenFile_Rewritten_IsReadAgainWhenTheFileChanges()
    {
        using var dir = new TempDirectory();
        var tokenPath = dir.Write("token", "old");
        var time = new ManualTimeProvider();
        var provider = new FileTokenProvider(tokenPath, time);

        Assert.Equal("old", await provider.GetTokenAsync(false, default));
        File.WriteAllText(tokenPath, "new");
        File.SetLastWriteTimeUtc(tokenPath, File.GetLastWriteTimeUtc(tokenPath).AddSeconds(5));

        Assert.Equal("new", await provider.GetTokenAsync(false, default));
    }

    [Fact]
    public async Task TokenFile_SameWriteTime_IsReReadAfterOneMinuteOrOnForce()
    {
        using var dir = new TempDirectory();
        var tokenPath = dir.Write("token", "old");
        var stamp = File.GetLastWriteTimeUtc(tokenPath);
        var time = new ManualTimeProvider();
        var provider = new FileTokenProvider(tokenPath, time);
        Assert.Equal("old", await provider.GetTokenAsync(false, default));

        // Same write time (a coarse file system): the cache holds until the minute is up.
        File.WriteAllText(tokenPath, "new");
        File.SetLastWriteTimeUtc(tokenPath, stamp);
        Assert.Equal("old", await provider.GetTokenAsync(false, default));
        Assert.Equal("new", await provider.GetTokenAsync(true, default));

        File.WriteAllText(tokenPath, "newer");
        File.SetLastWriteTimeUtc(tokenPath, stamp);
        Assert.Equal("new", await provider.GetTokenAsync(false, default));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("newer", await provider.GetTokenAsync(false, default));
    }
}
