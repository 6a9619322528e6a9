using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using ComfyOperator.Observability.Prometheus;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Observability.Tests.Prometheus;

public sealed class PrometheusEndpointTests
{
    [Fact]
    public async Task MapPrometheusMetrics_Get_ServesTextFormatWithTheHostsMeters()
    {
        await using var app = await StartAsync([], app => app.MapPrometheusMetrics());
        app.Services.GetRequiredService<IMeterFactory>().Create("ComfyOperator.Router").CreateCounter<long>("comfy_router_runs_submitted").Add(3);
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(app.Urls.First() + "/metrics"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("comfy_router_runs_submitted_total 3\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MapPrometheusMetrics_FallbackPolicyRequiresAuth_StillAnonymousByDefault()
    {
        await using var app = await StartAsync([], app => app.MapPrometheusMetrics(), requireAuthEverywhere: true);
        using var client = new HttpClient();

        using var metrics = await client.GetAsync(new Uri(app.Urls.First() + "/metrics"));
        using var other = await client.GetAsync(new Uri(app.Urls.First() + "/other"));

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    [Fact]
    public async Task MapPrometheusMetrics_BearerTokenConfigured_RequiresIt()
    {
        await using var app = await StartAsync(new() { ["Metrics:BearerToken"] = "s3cret" }, app => app.MapPrometheusMetrics());
        using var client = new HttpClient();
        var uri = new Uri(app.Urls.First() + "/metrics");

        using var without = await client.GetAsync(uri);
        using var wrong = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "nope") } });
        using var right = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cret") } });

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task MapPrometheusMetrics_AuthorizeHook_DecidesAccess()
    {
        await using var app = await StartAsync([], app => app.MapPrometheusMetrics(), configure: services =>
            services.Configure<PrometheusEndpointOptions>(o => o.Authorize = context => ValueTask.FromResult(context.Request.Headers.ContainsKey("X-Scraper"))));
        using var client = new HttpClient();
        var uri = new Uri(app.Urls.First() + "/metrics");

        using var denied = await client.GetAsync(uri);
        using var allowed = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { { "X-Scraper", "1" } } });

        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task AddPrometheusMetrics_SeparatePort_ServesOnlyMetricsThere()
    {
        await using var app = await StartAsync(new() { ["Metrics:Port"] = "0", ["Metrics:Host"] = "127.0.0.1" }, _ => { });
        app.Services.GetRequiredService<IMeterFactory>().Create("ComfyOperator.Operator").CreateCounter<long>("reconciles").Add(1);
        var server = app.Services.GetRequiredService<PrometheusMetricsServer>();
        var metricsBase = Assert.Single(server.Addresses);
        using var client = new HttpClient();

        using var onMetricsPort = await client.GetAsync(new Uri(metricsBase + "/metrics"));
        using var apiOnMetricsPort = await client.GetAsync(new Uri(metricsBase + "/other"));
        using var metricsOnApiPort = await client.GetAsync(new Uri(app.Urls.First() + "/metrics"));

        Assert.Equal(HttpStatusCode.OK, onMetricsPort.StatusCode);
        Assert.Contains("reconciles_total 1\n", await onMetricsPort.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, apiOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metricsOnApiPort.StatusCode);
        Assert.NotEqual(new Uri(metricsBase).Port, new Uri(app.Urls.First()).Port);
    }

    [Fact]
    public async Task AddPrometheusMetrics_BadPort_StopsStartupNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new() { ["Metrics:Port"] = "70000" }, _ => { }));

        Assert.Contains("Metrics:Port", error.Message);
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
        builder.Services.AddPrometheusMetrics();
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
