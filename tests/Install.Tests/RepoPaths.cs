namespace ComfyOperator.Install.Tests;

/// <summary>Paths in the repository, found from the test binary by walking up to ComfyOperator.sln.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ComfyOperator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("ComfyOperator.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => s_root.Value;

    public static string Chart => Path.Combine(Root, "charts", "comfy-router");

    public static string KindValues => Path.Combine(Chart, "values-kind.yaml");

    /// <summary>Every option of the chart on (charts/comfy-router/ci/full-values.yaml).</summary>
    public static string FullValues => Path.Combine(Chart, "ci", "full-values.yaml");

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);
}
