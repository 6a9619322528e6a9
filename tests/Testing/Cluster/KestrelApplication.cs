using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Testing.Cluster;

/// <summary>An ASP.NET Core application hosted in this process by <see cref="WebApplicationFactory{TEntryPoint}"/>.</summary>
public static class KestrelApplication
{
    /// <summary>The application of <typeparamref name="TEntryPoint"/> with <paramref name="settings"/>, served in memory (its <c>CreateClient</c> only).</summary>
    public static WebApplicationFactory<TEntryPoint> Create<TEntryPoint>(IReadOnlyDictionary<string, string> settings)
        where TEntryPoint : class =>
        new WebApplicationFactory<TEntryPoint>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });

    /// <summary>
    /// The application of <see cref="Create"/> on a real socket (for clients in other components, such
    /// as an operator's <c>--router-url</c>); the settings choose the address. Returns the factory and the
    /// address it listens on.
    /// </summary>
    public static (WebApplicationFactory<TEntryPoint> Application, Uri Address) StartListening<TEntryPoint>(IReadOnlyDictionary<string, string> settings)
        where TEntryPoint : class
    {
        var application = Create<TEntryPoint>(settings);
        application.UseKestrel();
        application.StartServer();
        var address = application.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (application, new Uri(address.TrimEnd('/') + "/"));
    }
}
