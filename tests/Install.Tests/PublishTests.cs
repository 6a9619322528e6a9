namespace ComfyOperator.Install.Tests;

/// <summary>
/// `dotnet publish` of each binary with the options its Dockerfile uses (output and artifacts under
/// a temporary folder, so the repository's bin/obj are untouched). The two cases run one after the
/// other in this class and share the compiled libraries. Analyzers are off here: they do not change
/// the published output and the build already runs them.
/// </summary>
public sealed class PublishTests(PublishFixture fixture) : IClassFixture<PublishFixture>
{
    [Theory]
    [InlineData("src/Router/Dockerfile", "comfy-router")]
    [InlineData("src/Operator/Dockerfile", "comfy-operator")]
    public async Task Publish_WithDockerfileOptions_ProducesAppHostWithoutSymbols(string dockerfile, string assembly)
    {
        var command = DockerfileTests.PublishCommand(Dockerfile.Load(RepoPaths.Combine(dockerfile)));
        var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();

        // Same options; the Dockerfile restores in an earlier layer, here publish restores itself.
        args.Remove("--no-restore");
        var output = Path.Combine(fixture.Root.FullName, assembly);
        var o = args.IndexOf("-o");
        Assert.True(o >= 0 && args[o + 1] == "/app", command);
        args[o + 1] = output;
        args.AddRange(["--artifacts-path", fixture.ArtifactsPath, "-p:RunAnalyzers=false", "-nologo", "-clp:ErrorsOnly"]);

        var result = await ProcessRunner.RunAsync("dotnet", args, TimeSpan.FromMinutes(10));
        Assert.True(result.Succeeded, result.ToString());
        var appHost = Path.Combine(output, assembly);
        Assert.True(File.Exists(appHost), $"{appHost} missing: the ENTRYPOINT would not start");
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(appHost).HasFlag(UnixFileMode.UserExecute), appHost + " is not executable");
        }

        Assert.True(File.Exists(Path.Combine(output, assembly + ".dll")));
        Assert.True(File.Exists(Path.Combine(output, assembly + ".runtimeconfig.json")));
        Assert.Empty(Directory.GetFiles(output, "*.pdb"));
    }
}
