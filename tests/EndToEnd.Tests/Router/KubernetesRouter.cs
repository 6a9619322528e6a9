using System.Net.Http.Headers;
using ComfyOperator.EndToEnd.Tests.Operator;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>The router in-process with the Kubernetes source on the emulator, watching one namespace.</summary>
internal static class KubernetesRouter
{
    public const string ApiKey = "e2e-key-0123456789";

    public static WebApplicationFactory<Program> Create(OperatorEnvironment env, string ns, IReadOnlyDictionary<string, string> settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Router:DataDirectory", Path.Combine(Path.GetTempPath(), "router-e2e", Guid.NewGuid().ToString("N")));
            builder.UseSetting("Router:ApiKeys:0", ApiKey);
            builder.UseSetting("Router:Kubernetes:Enabled", "true");
            builder.UseSetting("Router:Kubernetes:Kubeconfig", env.KubeconfigPath);
            builder.UseSetting("Router:Kubernetes:Namespaces:0", ns);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });

    /// <summary>
    /// The router of <see cref="Create"/> on a real loopback socket (for an operator's <c>--router-url</c>);
    /// returns the factory and the router's base address.
    /// </summary>
    public static (WebApplicationFactory<Program> Router, Uri Address) CreateListening(OperatorEnvironment env, string ns, IReadOnlyDictionary<string, string> settings)
    {
        var port = OperatorEnvironment.FreePort();
        var router = Create(env, ns, new Dictionary<string, string>(settings)
        {
            ["Router:Host"] = "127.0.0.1",
            ["Router:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        router.UseKestrel();
        router.StartServer();
        var address = router.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (router, new Uri(address.TrimEnd('/') + "/"));
    }

    public static HttpClient CreateClient(WebApplicationFactory<Program> router)
    {
        var client = router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }
}
