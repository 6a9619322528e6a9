using System.Net;
using System.Text;

namespace ComfyOperator.Kubernetes.Tests.Support;

/// <summary>Answers requests from a script, recording what was sent.</summary>
internal sealed class StubHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] answers) : HttpMessageHandler
{
    private int _next;

    public List<(HttpMethod Method, string Url, string? Authorization, string? ContentType, string? Body)> Requests { get; } = [];

    public static HttpResponseMessage Json(HttpStatusCode code, string json) =>
        new(code) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Requests)
        {
            Requests.Add((request.Method, request.RequestUri!.PathAndQuery, request.Headers.Authorization?.ToString(), request.Content?.Headers.ContentType?.MediaType, body));
        }

        var index = Interlocked.Increment(ref _next) - 1;
        if (index >= answers.Length)
        {
            throw new InvalidOperationException($"Unexpected request #{index + 1}: {request.Method} {request.RequestUri}");
        }

        return answers[index](request);
    }
}
