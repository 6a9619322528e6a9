namespace ComfyOperator.Router.Outputs;

/// <summary>Which output store the router uses and its S3 settings, bound from <c>Router:Outputs</c>.</summary>
internal sealed class OutputStoreOptions
{
    public const string SectionName = "Router:Outputs";

    /// <summary><c>local</c> (default, the router's output directory) or <c>s3</c>.</summary>
    public string Kind { get; set; } = "local";

    public S3OutputOptions S3 { get; set; } = new();

    internal bool IsLocal => Kind.Trim() is "" || Kind.Trim().Equals("local", StringComparison.OrdinalIgnoreCase);

    internal bool IsS3 => Kind.Trim().Equals("s3", StringComparison.OrdinalIgnoreCase);
}
