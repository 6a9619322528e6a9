using System.Net.Http.Headers;
using ComfyOperator.EndToEnd.Tests.Operator;
using ComfyOperator.Testing.Cluster;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>The router in-process with the Kubernetes source on the emulator, watching one namespace.</summary>
internal static class KubernetesRouter
{
    public const string ApiKey = "e2e-key-0123456789";

    public static WebApplicationFactory<Program> Create(OperatorEnvironment env, string ns, IReadOnlyDictionary<string, string> settings) =>
        KestrelApplication.Create<Program>(With(env.Cluster.RouterSettings(ns, ApiKey), settings));

    /// <summary>
    /// The router of <see cref="Create"/> on a real loopback socket (for an operator's <c>--router-url</c>);
    /// returns the factory and the router's base address.
    /// </summary>
    public static (WebApplicationFactory<Program> Router, Uri Address) CreateListening(OperatorEnvironment env, string ns, IReadOnlyDictionary<string, string> settings) =>
        KestrelApplication.StartListening<Program>(port => With(env.Cluster.RouterSettings(ns, ApiKey, port), settings));

    public static HttpClient CreateClient(WebApplicationFactory<Program> router)
    {
        var client = router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    private static Dictionary<string, string> With(Dictionary<string, string> settings, IReadOnlyDictionary<string, string> more)
    {
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }
}
