namespace ComfyOperator.Kubernetes.Configuration;

internal sealed class StaticTokenProvider(string token) : ITokenProvider
{
    public ValueTask<string?> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(token);
}
