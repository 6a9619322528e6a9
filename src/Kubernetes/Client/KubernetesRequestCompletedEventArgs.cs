namespace ComfyOperator.Kubernetes.Client;

/// <summary>One finished API request: the verb (get, list, watch, create, update, patch, delete), the HTTP code or "error", the time taken.</summary>
public sealed class KubernetesRequestCompletedEventArgs(string verb, string code, TimeSpan elapsed) : EventArgs
{
    public string Verb { get; } = verb;

    public string Code { get; } = code;

    public TimeSpan Elapsed { get; } = elapsed;
}
