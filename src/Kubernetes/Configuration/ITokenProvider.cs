namespace ComfyOperator.Kubernetes.Configuration;

/// <summary>Supplies the bearer token for each request; may cache and refresh it.</summary>
public interface ITokenProvider
{
    /// <summary>
    /// The current token. <paramref name="forceRefresh"/> is set after a 401, to drop any cached
    /// value (a rotated service-account token, an expired exec credential).
    /// </summary>
    ValueTask<string?> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken);
}
