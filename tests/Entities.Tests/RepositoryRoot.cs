namespace ComfyOperator.Entities.Tests;

/// <summary>Finds the repository root (the folder holding ComfyOperator.sln) from the test's output folder.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "ComfyOperator.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ComfyOperator.sln not found above " + AppContext.BaseDirectory);
    }
}
