namespace ComfyOperator.Install.Tests;

/// <summary>
/// Builds tools/chart-render (Go text/template + sprig, Helm's engine) once per test run, offline in
/// GOPATH mode from the Debian packages, and renders the chart with it.
/// </summary>
internal static class ChartRenderer
{
    /// <summary>Environment of the offline build: Debian's Go sources, no modules, no proxy.</summary>
    public static readonly IReadOnlyDictionary<string, string> GoEnvironment = new Dictionary<string, string>
    {
        ["GOPATH"] = "/usr/share/gocode",
        ["GO111MODULE"] = "off",
        ["GOFLAGS"] = "",
        ["GOPROXY"] = "off",
        ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "comfyoperator-chart-render-gocache"),
    };

    private static readonly Lazy<Task<string>> s_binary = new(BuildAsync);

    public static string GoExecutable
    {
        get
        {
            var candidates = new List<string> { "/usr/bin/go", "/usr/lib/go/bin/go" };
            candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(p => Path.Combine(p, "go")));
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException("go is not installed (Debian package golang-go; scripts/install-test-deps.sh installs it)");
        }
    }

    public static Task<string> BinaryAsync() => s_binary.Value;

    /// <summary>Renders the chart (default: charts/comfy-router) with the given values files, in order.</summary>
    public static async Task<ProcessResult> RenderAsync(
        IEnumerable<string>? valueFiles = null,
        string releaseName = "comfy",
        string @namespace = "default",
        bool includeCrds = false,
        bool notes = false,
        string? chartDirectory = null,
        IEnumerable<string>? apiVersions = null)
    {
        var binary = await BinaryAsync();
        var args = new List<string> { "--release-name", releaseName, "--namespace", @namespace };
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

        if (notes)
        {
            args.Add("--notes");
        }

        args.Add(chartDirectory ?? RepoPaths.Chart);
        return await ProcessRunner.RunAsync(binary, args, TimeSpan.FromSeconds(60));
    }

    /// <summary>Renders with values given as YAML text (each written to a temporary file).</summary>
    public static async Task<ProcessResult> RenderWithValuesAsync(params string[] valuesYaml)
    {
        var dir = Directory.CreateTempSubdirectory("chart-values-");
        try
        {
            var files = new List<string>();
            for (var i = 0; i < valuesYaml.Length; i++)
            {
                var path = Path.Combine(dir.FullName, $"values-{i}.yaml");
                await File.WriteAllTextAsync(path, valuesYaml[i]);
                files.Add(path);
            }

            return await RenderAsync(files);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Renders and fails the test with the renderer's output when it does not succeed.</summary>
    public static async Task<ManifestSet> RenderManifestsAsync(IEnumerable<string>? valueFiles = null, bool includeCrds = false, string @namespace = "default")
    {
        var result = await RenderAsync(valueFiles, includeCrds: includeCrds, @namespace: @namespace);
        Assert.True(result.Succeeded, result.ToString());
        return ManifestSet.Parse(result.StdOut);
    }

    private static async Task<string> BuildAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), "comfyoperator-chart-render-" + Guid.NewGuid().ToString("N"), "chart-render");
        var result = await ProcessRunner.RunAsync(
            GoExecutable,
            ["build", "-o", output, "./tools/chart-render"],
            TimeSpan.FromMinutes(5),
            GoEnvironment);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("building tools/chart-render failed: " + result);
        }

        return output;
    }
}
