namespace ComfyOperator.Install.Tests;

/// <summary>One temporary folder for both publishes, so the shared libraries compile once.</summary>
public sealed class PublishFixture : IDisposable
{
    public DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory("publish-");

    public string ArtifactsPath => Path.Combine(Root.FullName, "artifacts");

    public void Dispose() => Root.Delete(recursive: true);
}
