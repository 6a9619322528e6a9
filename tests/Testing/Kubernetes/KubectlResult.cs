namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Exit code and output of one kubectl run.</summary>
public sealed record KubectlResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}
