using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Observability.Metrics;
using ComfyOperator.Operator.Metrics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.EndToEnd.Tests.Observability;

public sealed partial class DashboardTests
{
    private static readonly HashSet<string> PromQlWords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "le",
    };

    [Fact]
    public async Task Dashboard_EveryQuery_ReferencesOnlyMetricsTheBinariesExport()
    {
        var expressions = DashboardExpressions();
        var exported = await RouterFamiliesAsync();
        exported.UnionWith(await OperatorFamiliesAsync());

        var names = expressions.SelectMany(MetricNames).ToHashSet(StringComparer.Ordinal);
        var missing = names.Where(name => !exported.Contains(name) && !exported.Contains(HistogramFamily(name))).Order().ToList();

        Assert.True(expressions.Count >= 20, $"only {expressions.Count} expressions found");
        Assert.Contains("comfy_router_run_duration_seconds_bucket", names);
        Assert.Contains("comfy_router_worker_state", names);
        Assert.Contains("kubernetes_client_requests_total", names);
        Assert.True(missing.Count == 0, "dashboard queries name metrics nobody exports: " + string.Join(", ", missing));
    }

    [Fact]
    public void MetricNames_PromQlWithLabelsRangesAndGrouping_FindsOnlyMetrics()
    {
        var names = MetricNames("histogram_quantile(0.95, sum by (le, workflow) (rate(a_bucket{status=~\"5..\",x!=\"y\"}[5m]))) / on (job) b + ignoring (z) c_total == 1");

        Assert.Equal(["a_bucket", "b", "c_total"], names);
    }

    private static List<string> DashboardExpressions()
    {
        var path = Path.Combine(RepositoryRoot(), "deploy", "grafana", "comfyoperator-dashboard.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var expressions = new List<string>();
        Collect(document.RootElement, expressions);
        return expressions;

        static void Collect(JsonElement element, List<string> into)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        into.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        Collect(property.Value, into);
                    }
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, into);
                }
            }
        }
    }

    /// <summary>Metric names in a PromQL expression: identifiers that are not functions, keywords, label matchers, ranges or grouping labels.</summary>
    internal static List<string> MetricNames(string expression)
    {
        var text = StringLiteral().Replace(expression, " ");
        text = LabelMatchers().Replace(text, " ");
        text = RangeSelectors().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return [.. Identifier().Matches(text)
            .Where(m => !text[(m.Index + m.Length)..].TrimStart().StartsWith('(') && !PromQlWords.Contains(m.Value))
            .Select(m => m.Value)
            .Distinct()];
    }

    private static string HistogramFamily(string name) =>
        name.EndsWith("_bucket", StringComparison.Ordinal) ? name[..^7]
        : name.EndsWith("_count", StringComparison.Ordinal) ? name[..^6]
        : name.EndsWith("_sum", StringComparison.Ordinal) ? name[..^4]
        : name;

    private static async Task<HashSet<string>> RouterFamiliesAsync()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "dashboard-tests", Guid.NewGuid().ToString("N"));
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Router:DataDirectory", dataDirectory);
            builder.UseSetting("Router:ApiKeys:0", "dashboard-test-key");
        });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "dashboard-test-key");
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Families(await response.Content.ReadAsStringAsync());
    }

    private static async Task<HashSet<string>> OperatorFamiliesAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Metrics:Port"] = "0", ["Metrics:Host"] = "127.0.0.1" });
        builder.Logging.ClearProviders();
        builder.Services.AddOperatorMetrics();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // What the operator's controllers resolve at start-up.
            _ = host.Services.GetRequiredService<OperatorMetrics>();
            _ = host.Services.GetRequiredService<KubernetesClientMetrics>();
            var address = host.Services.GetRequiredService<MetricsListener>().Addresses.Single();
            using var client = new HttpClient();
            return Families(await client.GetStringAsync(new Uri(address + "/metrics")));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static HashSet<string> Families(string exposition) =>
        exposition.Split('\n')
            .Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(line => line.Split(' ')[2])
            .ToHashSet(StringComparer.Ordinal);

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ComfyOperator.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ComfyOperator.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeSelectors();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
