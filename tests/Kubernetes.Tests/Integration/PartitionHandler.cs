namespace ComfyOperator.Kubernetes.Tests.Integration;

/// <summary>Cuts one client off the network on demand, as a partitioned node would be.</summary>
internal sealed class PartitionHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public volatile bool Partitioned;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Partitioned
            ? Task.FromException<HttpResponseMessage>(new HttpRequestException("partitioned (test)"))
            : base.SendAsync(request, cancellationToken);
}
