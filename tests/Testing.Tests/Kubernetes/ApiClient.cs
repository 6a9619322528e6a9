using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>Raw HTTP access to the emulator for rule-level tests.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(Uri baseAddress, string? token = null)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public HttpClient Http => _http;

    public Task<ApiResponse> GetAsync(string path, string? accept = null) => SendAsync(HttpMethod.Get, path, null, accept: accept);

    public Task<ApiResponse> PostAsync(string path, string body) => SendAsync(HttpMethod.Post, path, body);

    public Task<ApiResponse> PutAsync(string path, string body) => SendAsync(HttpMethod.Put, path, body);

    public Task<ApiResponse> PatchAsync(string path, string body, string contentType = "application/merge-patch+json") =>
        SendAsync(HttpMethod.Patch, path, body, contentType);

    public Task<ApiResponse> DeleteAsync(string path, string? body = null) => SendAsync(HttpMethod.Delete, path, body);

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, string? body, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && (text[0] == '{' || text[0] == '['))
        {
            json = JsonNode.Parse(text);
        }

        var headers = response.Headers.Select(h => (h.Key, string.Join(",", h.Value))).ToList();
        return new ApiResponse((int)response.StatusCode, json, text, headers);
    }

    /// <summary>Creates the CronTab CRD used across tests and returns the emulator-ready client.</summary>
    public async Task CreateCronTabCrdAsync(string? crd = null)
    {
        var r = await PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd ?? TestCrds.CronTab);
        Assert.True(r.Code == 201, r.Text);
    }

    public void Dispose() => _http.Dispose();
}

internal sealed record ApiResponse(int Code, JsonNode? Json, string Text, IReadOnlyList<(string Key, string Value)> Headers)
{
    public string? Message => Json?["message"]?.GetValue<string>();

    public string? Reason => Json?["reason"]?.GetValue<string>();

    public string Rv => Json!["metadata"]!["resourceVersion"]!.GetValue<string>();

    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
