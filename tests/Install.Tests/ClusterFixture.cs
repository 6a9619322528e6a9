using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// One Kubernetes API emulator per test class, with a kubeconfig for helm and the real kubectl.
/// Tests sharing it use their own release names and namespaces.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("chart-cluster-");
    private KubeApiEmulator _emulator = null!;
    private Kubectl _kubectl = null!;

    public string Kubeconfig { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _emulator = await KubeApiEmulator.StartAsync();
        Kubeconfig = _emulator.WriteKubeconfig(Path.Combine(_dir.FullName, "kubeconfig"));
        _kubectl = new Kubectl(Kubeconfig);
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _emulator.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    /// <summary>Runs helm against the emulator and fails the test with its output when it does not succeed.</summary>
    internal async Task<ProcessResult> HelmAsync(params string[] args)
    {
        var result = await Helm.RunAsync(args, Kubeconfig);
        Assert.True(result.Succeeded, $"helm {string.Join(' ', args)}\n{result}");
        return result;
    }

    /// <summary>Runs kubectl against the emulator.</summary>
    internal Task<KubectlResult> TryKubectlAsync(IEnumerable<string> args, string? stdin = null) =>
        _kubectl.RunAsync(args, stdin, TimeSpan.FromSeconds(60));

    /// <summary>Runs kubectl against the emulator and fails the test with its output when it does not succeed.</summary>
    internal async Task<KubectlResult> KubectlAsync(IEnumerable<string> args, string? stdin = null)
    {
        var result = await TryKubectlAsync(args, stdin);
        Assert.True(result.Succeeded, $"kubectl {string.Join(' ', args)}\n{result}");
        return result;
    }

    /// <summary>The release's manifest as helm recorded it (<c>helm get manifest</c>), also written to a file.</summary>
    internal async Task<(ManifestSet Manifests, string Path)> ReleaseManifestAsync(string release, string @namespace)
    {
        var result = await HelmAsync("get", "manifest", release, "--namespace", @namespace);
        var path = Path.Combine(_dir.FullName, $"{release}-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, result.StdOut);
        return (ManifestSet.Parse(result.StdOut), path);
    }

    /// <summary>Every object of the manifest file can be read back from the cluster, under its kind and name.</summary>
    internal async Task AssertAllExistAsync(ManifestSet manifests, string path)
    {
        Assert.NotEmpty(manifests.Items);
        var get = await KubectlAsync(["get", "-f", path, "-o", "name"]);
        var names = get.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(manifests.Items.Count, names.Length);
        foreach (var manifest in manifests.Items)
        {
            Assert.Contains(names, n => n.EndsWith("/" + manifest.Name, StringComparison.Ordinal)
                && n.StartsWith(manifest.Kind.ToLowerInvariant(), StringComparison.Ordinal));
        }
    }

    /// <summary>Namespaced objects name one of <paramref name="namespaces"/>, cluster-scoped ones none.</summary>
    internal static void AssertNamespaces(ManifestSet manifests, params string[] namespaces)
    {
        var clusterKinds = new[] { "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding" };
        Assert.All(manifests.Items, m => Assert.True(
            clusterKinds.Contains(m.Kind) ? m.Namespace is null : namespaces.Contains(m.Namespace),
            $"{m} has namespace '{m.Namespace}'"));
    }
}
