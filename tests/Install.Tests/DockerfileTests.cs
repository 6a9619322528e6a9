using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// What can be checked of the images without Docker: stages, the non-root user, the published app
/// path against the project's assembly name, the copied projects against the project references,
/// labels, no HEALTHCHECK; for ComfyUI the pinned version and what the operator's pods expect.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string, string> DotnetImages => new()
    {
        { "src/Router/Dockerfile", "src/Router/ComfyOperator.Router.csproj" },
        { "src/Operator/Dockerfile", "src/Operator/ComfyOperator.Operator.csproj" },
    };

    [Fact]
    public void RouterImage_RunsAsTheBenchesMeasureIt()
    {
        // Workstation GC and two malloc arenas, as bench/Router.Bench's RouterProcess starts the router.
        var final = Dockerfile.Load(RepoPaths.Combine("src/Router/Dockerfile")).Stages[^1];
        var environment = string.Join(' ', final.Where(i => i.Keyword == "ENV").Select(i => i.Arguments));
        Assert.Contains("DOTNET_gcServer=0", environment, StringComparison.Ordinal);
        Assert.Contains("MALLOC_ARENA_MAX=2", environment, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DotnetImages))]
    public void DotnetDockerfile_MultiStageNonRootAndAppPathMatchesAssembly(string dockerfile, string project)
    {
        var file = Dockerfile.Load(RepoPaths.Combine(dockerfile));
        var stages = file.Stages;
        Assert.True(stages.Count >= 2, "multi-stage build expected");
        Assert.Matches(@"dotnet/sdk", Resolve(file, stages[0][0].Arguments));
        var final = stages[^1];
        Assert.Matches(@"dotnet/(aspnet|runtime-deps)", Resolve(file, final[0].Arguments));

        // The app is published to /app and started from there under the project's assembly name.
        var assembly = XDocument.Load(RepoPaths.Combine(project)).Descendants("AssemblyName").Single().Value;
        var publish = PublishCommand(file);
        Assert.Contains("-o /app", publish, StringComparison.Ordinal);
        Assert.Contains("-c Release", publish, StringComparison.Ordinal);
        Assert.Contains(project, publish, StringComparison.Ordinal);
        Assert.Contains(final, i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build", StringComparison.Ordinal) && i.Arguments.EndsWith("/app /app", StringComparison.Ordinal));
        var entrypoint = final.Single(i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Equal($"[\"/app/{assembly}\"]", entrypoint);

        // Non-root, numeric so runAsNonRoot can verify it; the chart runs the pod as the same user.
        var user = final.Last(i => i.Keyword == "USER").Arguments;
        Assert.Equal("65532:65532", user);
        var values = File.ReadAllText(Path.Combine(RepoPaths.Chart, "values.yaml"));
        Assert.Contains("runAsUser: 65532", values, StringComparison.Ordinal);

        Assert.DoesNotContain(file.Instructions, i => i.Keyword == "HEALTHCHECK");
        Assert.Contains(final, i => i.Keyword == "ENV" && i.Arguments.Contains("DOTNET_EnableDiagnostics=0", StringComparison.Ordinal));
        var labels = string.Join(' ', final.Where(i => i.Keyword == "LABEL").Select(i => i.Arguments));
        foreach (var label in new[] { "title", "description", "source", "version", "revision", "licenses" })
        {
            Assert.Contains($"org.opencontainers.image.{label}=", labels, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(DotnetImages))]
    public void DotnetDockerfile_CopiesEveryReferencedProject(string dockerfile, string project)
    {
        var file = Dockerfile.Load(RepoPaths.Combine(dockerfile));
        var copies = file.Stages[0].Where(i => i.Keyword == "COPY").Select(i => i.Arguments).ToList();
        foreach (var dir in ProjectClosure(RepoPaths.Combine(project)))
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, dir).Replace('\\', '/');
            Assert.Contains(copies, c => c.StartsWith(relative + "/ ", StringComparison.Ordinal));
            var csproj = Path.GetRelativePath(RepoPaths.Root, Directory.GetFiles(dir, "*.csproj").Single()).Replace('\\', '/');
            Assert.Contains(copies, c => c.StartsWith(csproj + " ", StringComparison.Ordinal));
        }

        foreach (var shared in new[] { "Directory.Build.props", "Directory.Packages.props", "BannedSymbols.txt" })
        {
            Assert.Contains(copies, c => c.Split(' ').Contains(shared));
            Assert.True(File.Exists(RepoPaths.Combine(shared)), shared);
        }
    }

    [Theory]
    [InlineData("deploy/comfyui/Dockerfile", false)]
    [InlineData("deploy/comfyui/Dockerfile.cpu", true)]
    public void ComfyUiDockerfile_PinnedNonRootAndShapedForOperatorPods(string path, bool cpu)
    {
        var file = Dockerfile.Load(RepoPaths.Combine(path));
        var args = file.Instructions.Where(i => i.Keyword == "ARG").Select(i => i.Arguments).ToList();
        var reference = args.Single(a => a.StartsWith("COMFYUI_REF=", StringComparison.Ordinal))["COMFYUI_REF=".Length..];
        Assert.Matches(@"^(v\d+\.\d+\.\d+|[0-9a-f]{40})$", reference);
        Assert.Contains(file.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("fetch --depth 1 \"${COMFYUI_REPO}\" \"${COMFYUI_REF}\"", StringComparison.Ordinal));

        // The operator's pods run `python main.py` as UID/GID 1000 and pass our flags as args.
        Assert.Equal("1000:1000", file.Instructions.Last(i => i.Keyword == "USER").Arguments);
        Assert.Equal("/opt/ComfyUI", file.Instructions.Last(i => i.Keyword == "WORKDIR").Arguments);
        var cmd = file.Instructions.Single(i => i.Keyword == "CMD").Arguments;
        Assert.StartsWith("[\"python\", \"main.py\", \"--listen\", \"0.0.0.0\", \"--port\", \"8188\"", cmd, StringComparison.Ordinal);
        Assert.Equal(cpu, cmd.Contains("\"--cpu\"", StringComparison.Ordinal));
        Assert.Contains(file.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("/etc/comfy-operator", StringComparison.Ordinal) && i.Arguments.Contains("/comfy-data", StringComparison.Ordinal));
        Assert.Contains(file.Instructions, i => i.Keyword == "ENV" && i.Arguments.Contains("PATH=/opt/venv/bin:$PATH", StringComparison.Ordinal));
        Assert.Contains(file.Instructions, i => i.Keyword == "EXPOSE" && i.Arguments == "8188");
        Assert.DoesNotContain(file.Instructions, i => i.Keyword == "HEALTHCHECK");
        Assert.Contains(file.Instructions, i => i.Keyword == "COPY" && i.Arguments == "custom_nodes/comfyoperator_cleanup /opt/ComfyUI/custom_nodes/comfyoperator_cleanup");
        Assert.True(File.Exists(RepoPaths.Combine("deploy/comfyui/custom_nodes/comfyoperator_cleanup/__init__.py")));
        Assert.Contains(file.Instructions, i => i.Keyword == "COPY" && i.Arguments == "custom_nodes/comfyoperator_cleanup /opt/ComfyUI/custom_nodes/comfyoperator_cleanup");
        Assert.True(File.Exists(RepoPaths.Combine("deploy/comfyui/custom_nodes/comfyoperator_cleanup/__init__.py")));
        Assert.Matches(cpu ? "whl/cpu" : "whl/cu\\d+", string.Join('\n', args));
    }

    /// <summary>The `dotnet publish` line of the build stage, with ARG defaults left as written.</summary>
    internal static string PublishCommand(Dockerfile file) =>
        file.Stages[0].Single(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal)).Arguments;

    private static string Resolve(Dockerfile file, string from)
    {
        foreach (var arg in file.Instructions.TakeWhile(i => i.Keyword == "ARG"))
        {
            var parts = arg.Arguments.Split('=', 2);
            if (parts.Length == 2)
            {
                from = from.Replace("${" + parts[0] + "}", parts[1], StringComparison.Ordinal);
            }
        }

        return from;
    }

    private static HashSet<string> ProjectClosure(string csproj)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>([Path.GetFullPath(csproj)]);
        while (todo.TryPop(out var current))
        {
            if (!seen.Add(Path.GetDirectoryName(current)!))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                todo.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
            }
        }

        return seen;
    }
}
