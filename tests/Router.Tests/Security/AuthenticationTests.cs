using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Security;

public sealed class AuthenticationTests : IClassFixture<AuthenticationTests.Fixture>
{
    private readonly Fixture _fixture;

    public AuthenticationTests(Fixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Get_NoCredentials_Returns401WithChallengeAndProblem()
    {
        using var client = _fixture.Factory.CreateClient();

        using var response = await client.GetAsync("/v1/nodes");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenges = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToList();
        Assert.Contains("Bearer", challenges);
        Assert.Contains("Basic", challenges);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://comfyoperator.io/problems/unauthorized", problem.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("Bearer", "wrong-key")]
    [InlineData("Basic", "admin:wrong")]
    [InlineData("Basic", "root:s3cret")]
    [InlineData("Basic", "not-base64!")]
    public async Task Get_WrongCredentials_Returns401(string scheme, string secret)
    {
        using var client = _fixture.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, scheme == "Basic" && secret.Contains(':') ? Base64(secret) : secret);

        using var response = await client.GetAsync("/v1/nodes");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Get_RightBearerKey_Returns200()
    {
        using var client = _fixture.Factory.CreateAuthorizedClient();

        using var response = await client.GetAsync("/v1/nodes");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Get_KeyFromKeysFile_Returns200()
    {
        using var client = _fixture.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "file-key-2");

        using var response = await client.GetAsync("/v1/nodes");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Get_KeysFileRotated_NewKeyWorksAndRemovedKeyIsRefused()
    {
        var keysFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(keysFile, "old-key-0001\n");
            await using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:ApiKeysFile"] = keysFile });
            using var client = factory.CreateClient();
            Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(client, "old-key-0001"));
            var loadedAt = File.GetLastWriteTimeUtc(keysFile);

            // As a Secret update does: the file is replaced by one with the new key only.
            var replacement = keysFile + ".new";
            await File.WriteAllTextAsync(replacement, "# rotated\nnew-key-0002\n");
            File.SetLastWriteTimeUtc(replacement, loadedAt.AddSeconds(1));
            File.Move(replacement, keysFile, overwrite: true);

            Assert.Equal(HttpStatusCode.OK, await StatusWithBearerAsync(client, "new-key-0002"));
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithBearerAsync(client, "old-key-0001"));
        }
        finally
        {
            File.Delete(keysFile);
        }
    }

    private static async Task<HttpStatusCode> StatusWithBearerAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/runs");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Get_RightBasicCredentials_Returns200()
    {
        using var client = _fixture.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Base64("admin:s3cret"));

        using var response = await client.GetAsync("/v1/runs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/healthz", HttpStatusCode.OK)]
    [InlineData("/readyz", HttpStatusCode.ServiceUnavailable)]
    public async Task Get_HealthEndpoints_AreOpen(string path, HttpStatusCode expected)
    {
        using var client = _fixture.Factory.CreateClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Get_ReadyzWithoutNodes_SaysNoNodesConfigured()
    {
        using var client = _fixture.Factory.CreateClient();

        using var response = await client.GetAsync("/readyz");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("No ComfyUI nodes are configured", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OpenApiAndDocs_RequireCredentials()
    {
        using var anonymous = _fixture.Factory.CreateClient();
        using var authorized = _fixture.Factory.CreateAuthorizedClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/docs/index.html")).StatusCode);
        var document = await authorized.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/runs", document, StringComparison.Ordinal);
        Assert.Contains("SubmitRun", document, StringComparison.Ordinal);
        using var docs = await authorized.GetAsync("/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public sealed class Fixture : IDisposable
    {
        private readonly string _keysFile = Path.GetTempFileName();

        public Fixture()
        {
            File.WriteAllText(_keysFile, "# rotated keys\nfile-key-1\nfile-key-2 # the new one\n");
            Factory = new RouterFactory(new Dictionary<string, string?>
            {
                ["Router:Username"] = "admin",
                ["Router:Password"] = "s3cret",
                ["Router:ApiKeysFile"] = _keysFile,
            });
        }

        public RouterFactory Factory { get; }

        public void Dispose()
        {
            Factory.Dispose();
            File.Delete(_keysFile);
        }
    }
}
