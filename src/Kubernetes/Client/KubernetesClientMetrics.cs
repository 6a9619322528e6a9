namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Reports every API request attempt (verb, HTTP code or "error", time taken) through
/// <see cref="RequestCompleted"/>. The operator turns the stream into <c>kubernetes_client_requests_total</c>
/// and <c>kubernetes_client_request_duration_seconds</c>; this project defines no metrics of its own.
/// </summary>
public sealed class KubernetesClientMetrics
{
    /// <summary>Raised after every request attempt, retries included.</summary>
    public event EventHandler<KubernetesRequestCompletedEventArgs>? RequestCompleted;

    internal void Record(string verb, string code, TimeSpan elapsed) =>
        RequestCompleted?.Invoke(this, new KubernetesRequestCompletedEventArgs(verb, code, elapsed));
}
