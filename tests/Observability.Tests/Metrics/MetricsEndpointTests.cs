using System.Net;
using System.Net.Http.Headers;
using ComfyOperator.Observability.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Observability.Tests.Metrics;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task MapComfyMetrics_Get_ServesTextFormatWithTheHostsMetricsOnly()
    {
        await using var app = await StartAsync([], app => app.MapComfyMetrics());
        await using var other = await StartAsync([], app => app.MapComfyMetrics());
        app.Services.GetRequiredService<CappedMetricFactory>().CreateCounter("comfy_router_runs_submitted_total", "Runs.").Inc(3);
        other.Services.GetRequiredService<CappedMetricFactory>().CreateCounter("comfy_other_total", "Other host.").Inc();
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(app.Urls.First() + "/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Contains("comfy_router_runs_submitted_total 3\n", text);
        Assert.DoesNotContain("comfy_other_total", text);
    }

    [Fact]
    public async Task MapComfyMetrics_ScraperAsksForOpenMetrics_GetsTheTextFormat()
    {
        await using var app = await StartAsync([], app => app.MapComfyMetrics());
        app.Services.GetRequiredService<CappedMetricFactory>().CreateCounter("comfy_router_runs_submitted_total", "Runs.").Inc();
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.Urls.First() + "/metrics"));
        request.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0; charset=utf-8");

        using var response = await client.SendAsync(request);

        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("# TYPE comfy_router_runs_submitted_total counter\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MapComfyMetrics_FallbackPolicyRequiresAuth_StillAnonymousByDefault()
    {
        await using var app = await StartAsync([], app => app.MapComfyMetrics(), requireAuthEverywhere: true);
        using var client = new HttpClient();

        using var metrics = await client.GetAsync(new Uri(app.Urls.First() + "/metrics"));
        using var other = await client.GetAsync(new Uri(app.Urls.First() + "/other"));

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    [Fact]
    public async Task MapComfyMetrics_BearerTokenConfigured_RequiresIt()
    {
        await using var app = await StartAsync(new() { ["Metrics:BearerToken"] = "s3cret" }, app => app.MapComfyMetrics());
        using var client = new HttpClient();
        var uri = new Uri(app.Urls.First() + "/metrics");

        using var without = await client.GetAsync(uri);
        using var wrong = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "nope") } });
        using var right = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cret") } });

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal("Bearer", without.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task MapComfyMetrics_AuthorizeHook_DecidesAccess()
    {
        await using var app = await StartAsync([], app => app.MapComfyMetrics(), configure: services =>
            services.Configure<MetricsOptions>(o => o.Authorize = context => ValueTask.FromResult(context.Request.Headers.ContainsKey("X-Scraper"))));
        using var client = new HttpClient();
        var uri = new Uri(app.Urls.First() + "/metrics");

        using var denied = await client.GetAsync(uri);
        using var allowed = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { { "X-Scraper", "1" } } });

        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task AddComfyMetrics_SeparatePort_ServesOnlyMetricsThereWithTheToken()
    {
        await using var app = await StartAsync(new() { ["Metrics:Port"] = "0", ["Metrics:Host"] = "127.0.0.1", ["Metrics:BearerToken"] = "s3cret" }, _ => { });
        app.Services.GetRequiredService<CappedMetricFactory>().CreateCounter("reconciles_total", "Reconciles.").Inc();
        var metricsBase = Assert.Single(app.Services.GetRequiredService<MetricsListener>().Addresses);
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var anonymous = new HttpClient();

        using var onMetricsPort = await client.GetAsync(new Uri(metricsBase + "/metrics"));
        using var withoutToken = await anonymous.GetAsync(new Uri(metricsBase + "/metrics"));
        using var apiOnMetricsPort = await client.GetAsync(new Uri(metricsBase + "/other"));
        using var metricsOnApiPort = await client.GetAsync(new Uri(app.Urls.First() + "/metrics"));

        Assert.Equal(HttpStatusCode.OK, onMetricsPort.StatusCode);
        Assert.Contains("reconciles_total 1\n", await onMetricsPort.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, apiOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metricsOnApiPort.StatusCode);
        Assert.NotEqual(new Uri(metricsBase).Port, new Uri(app.Urls.First()).Port);
    }

    [Theory]
    [InlineData("Metrics:Port", "70000")]
    [InlineData("Metrics:MaxSeriesPerInstrument", "0")]
    [InlineData("Metrics:Path", "metrics")]
    public async Task AddComfyMetrics_BadSetting_StopsStartupNamingTheSetting(string key, string value)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new() { [key] = value }, _ => { }));

        Assert.Contains(key, error.Message);
    }

    private static async Task<WebApplication> StartAsync(
        Dictionary<string, string?> settings,
        Action<WebApplication> map,
        bool requireAuthEverywhere = false,
        Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddComfyMetrics();
        builder.Services.AddAuthentication("none").AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, DenyAllHandler>("none", null);
        builder.Services.AddAuthorizationBuilder();
        if (requireAuthEverywhere)
        {
            builder.Services.AddAuthorizationBuilder().SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder("none").RequireAuthenticatedUser().Build());
        }

        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        map(app);
        app.MapGet("/other", () => "other");
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }
}
