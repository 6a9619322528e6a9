namespace ComfyOperator.Install.Tests;

/// <summary>
/// Runs the real <c>helm</c> (v4, installed by scripts/install-test-deps.sh) with its cache, config and
/// data folders in a private temporary folder, so tests never read or write the user's Helm setup.
/// A missing binary is an error, never a skip.
/// </summary>
internal static class Helm
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    private static readonly Lazy<string> s_home = new(() => Directory.CreateTempSubdirectory("comfyoperator-helm-home-").FullName);

    /// <summary>/usr/local/bin/helm (where the install script puts it), or the first helm on PATH.</summary>
    public static string ExecutablePath
    {
        get
        {
            var candidates = new List<string> { "/usr/local/bin/helm", "/usr/bin/helm" };
            candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(p => Path.Combine(p, "helm")));
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException("helm is not installed (scripts/install-test-deps.sh installs it as /usr/local/bin/helm)");
        }
    }

    /// <summary>Runs helm with the given arguments; with a kubeconfig for commands that reach a cluster.</summary>
    public static Task<ProcessResult> RunAsync(IEnumerable<string> args, string? kubeconfig = null, TimeSpan? timeout = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["HELM_CACHE_HOME"] = Path.Combine(s_home.Value, "cache"),
            ["HELM_CONFIG_HOME"] = Path.Combine(s_home.Value, "config"),
            ["HELM_DATA_HOME"] = Path.Combine(s_home.Value, "data"),
            // Without a cluster, a kubeconfig path that does not exist: helm must not find the user's.
            ["KUBECONFIG"] = kubeconfig ?? Path.Combine(s_home.Value, "no-kubeconfig"),
        };
        return ProcessRunner.RunAsync(ExecutablePath, args, timeout ?? s_timeout, environment);
    }

    /// <summary><c>helm template</c> of the chart (default: charts/comfy-router) with the given values files, in order.</summary>
    public static Task<ProcessResult> TemplateAsync(
        IEnumerable<string>? valueFiles = null,
        string releaseName = "comfy",
        string @namespace = "default",
        bool includeCrds = false,
        string? chartDirectory = null,
        IEnumerable<string>? apiVersions = null)
    {
        var args = new List<string> { "template", releaseName, chartDirectory ?? RepoPaths.Chart, "--namespace", @namespace };
        foreach (var file in valueFiles ?? [])
        {
            args.AddRange(["-f", file]);
        }

        foreach (var version in apiVersions ?? [])
        {
            args.AddRange(["--api-versions", version]);
        }

        if (includeCrds)
        {
            args.Add("--include-crds");
        }

        return RunAsync(args);
    }

    /// <summary>Templates with values given as YAML text (each written to a temporary file).</summary>
    public static async Task<ProcessResult> TemplateWithValuesAsync(params string[] valuesYaml)
    {
        var dir = Directory.CreateTempSubdirectory("chart-values-");
        try
        {
            return await TemplateAsync(await WriteValuesAsync(dir.FullName, valuesYaml));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Templates and fails the test with helm's output when it does not succeed.</summary>
    public static async Task<ManifestSet> TemplateManifestsAsync(IEnumerable<string>? valueFiles = null, bool includeCrds = false, string @namespace = "default")
    {
        var result = await TemplateAsync(valueFiles, includeCrds: includeCrds, @namespace: @namespace);
        Assert.True(result.Succeeded, result.ToString());
        return ManifestSet.Parse(result.StdOut);
    }

    /// <summary>The chart's NOTES.txt as <c>helm install</c> prints it (a client-side dry run: no cluster).</summary>
    public static async Task<string> NotesAsync(IEnumerable<string>? valueFiles = null)
    {
        var args = new List<string> { "install", "comfy", RepoPaths.Chart, "--namespace", "default", "--dry-run=client" };
        foreach (var file in valueFiles ?? [])
        {
            args.AddRange(["-f", file]);
        }

        var result = await RunAsync(args);
        Assert.True(result.Succeeded, result.ToString());
        var start = result.StdOut.IndexOf("\nNOTES:\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "no NOTES in: " + result.StdOut);
        return result.StdOut[(start + "\nNOTES:\n".Length)..];
    }

    /// <summary>Writes each YAML text to values-N.yaml in <paramref name="directory"/>.</summary>
    public static async Task<List<string>> WriteValuesAsync(string directory, params string[] valuesYaml)
    {
        var files = new List<string>();
        for (var i = 0; i < valuesYaml.Length; i++)
        {
            var path = Path.Combine(directory, $"values-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(path, valuesYaml[i]);
            files.Add(path);
        }

        return files;
    }
}
