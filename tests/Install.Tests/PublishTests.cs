namespace ComfyOperator.Install.Tests;

/// <summary>
/// `dotnet publish` of both binaries with the options their Dockerfiles use (output and artifacts
/// under a temporary folder, so the repository's bin/obj are untouched). One test, sequential: it is
/// the slow one.
/// </summary>
public sealed class PublishTests
{
    [Fact]
    public async Task Publish_RouterAndOperatorWithDockerfileOptions_ProducesAppHostWithoutSymbols()
    {
        var temp = Directory.CreateTempSubdirectory("publish-");
        try
        {
            var artifacts = Path.Combine(temp.FullName, "artifacts");
            foreach (var (dockerfile, assembly) in new[] { ("src/Router/Dockerfile", "comfy-router"), ("src/Operator/Dockerfile", "comfy-operator") })
            {
                var command = DockerfileTests.PublishCommand(Dockerfile.Load(RepoPaths.Combine(dockerfile)));
                var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();

                // Same options; the Dockerfile restores in an earlier layer, here publish restores itself.
                args.Remove("--no-restore");
                var output = Path.Combine(temp.FullName, assembly);
                var o = args.IndexOf("-o");
                Assert.True(o >= 0 && args[o + 1] == "/app", command);
                args[o + 1] = output;
                args.AddRange(["--artifacts-path", artifacts, "-nologo", "-clp:ErrorsOnly"]);

                var result = await ProcessRunner.RunAsync("dotnet", args, TimeSpan.FromMinutes(8));
                Assert.True(result.Succeeded, result.ToString());
                var appHost = Path.Combine(output, assembly);
                Assert.True(File.Exists(appHost), $"{appHost} missing: ENTRYPOINT would not start");
                if (!OperatingSystem.IsWindows())
                {
                    Assert.True(File.GetUnixFileMode(appHost).HasFlag(UnixFileMode.UserExecute), appHost + " is not executable");
                }

                Assert.True(File.Exists(Path.Combine(output, assembly + ".dll")));
                Assert.Empty(Directory.GetFiles(output, "*.pdb"));
            }
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }
}
