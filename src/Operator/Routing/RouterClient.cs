using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ComfyOperator.Operator.Routing;

/// <summary>
/// The operator's view of the router (<c>--router-url</c>, with the API key of
/// <c>COMFY_OPERATOR_ROUTER_API_KEY</c>): which workers it has drained, and each workflow's demand. Each call has its own
/// timeout; a router that does not answer is reported as unknown (null), never as drained.
/// </summary>
internal sealed class RouterClient(HttpClient http, Uri baseAddress, string? apiKey, TimeSpan timeout)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Uri BaseAddress { get; } = baseAddress;

    /// <summary>The router's workers from the cluster, or null when the router could not be asked.</summary>
    public async Task<IReadOnlyList<RouterNode>?> ListClusterNodesAsync(CancellationToken cancellationToken) =>
        await GetAsync<List<RouterNode>>("v1/nodes?source=kubernetes", cancellationToken);

    /// <summary>
    /// A workflow's runs pending and running (<c>GET /v1/workflows/{name}</c>), or null when the router
    /// could not be asked or does not serve the workflow (yet).
    /// </summary>
    public async Task<RouterDemand?> GetDemandAsync(string workflow, CancellationToken cancellationToken) =>
        (await GetAsync<RouterWorkflow>($"v1/workflows/{Uri.EscapeDataString(workflow)}", cancellationToken))?.Demand;

    private async Task<T?> GetAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, path));
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        try
        {
            using var response = await http.SendAsync(request, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            return await response.Content.ReadFromJsonAsync<T>(Json, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            return null;
        }
    }
}
