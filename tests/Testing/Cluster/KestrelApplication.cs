using Microsoft.AspNetCore.Connections;
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
    /// The application of <see cref="Create"/> on a real loopback socket (for clients in other
    /// components, such as an operator's <c>--router-url</c>): <paramref name="settingsForPort"/> gives the
    /// settings that make it listen on a free port it is handed. A port taken between the pick and the
    /// bind (another process on a busy machine) is picked again. Returns the factory and its address.
    /// </summary>
    public static (WebApplicationFactory<TEntryPoint> Application, Uri Address) StartListening<TEntryPoint>(Func<int, IReadOnlyDictionary<string, string>> settingsForPort)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(settingsForPort);
        for (var attempt = 1; ; attempt++)
        {
            var application = Create<TEntryPoint>(settingsForPort(SimulatedCluster.FreePort()));
            application.UseKestrel();
            try
            {
                application.StartServer();
            }
            catch (IOException e) when (attempt < 5 && e.InnerException is AddressInUseException)
            {
                application.Dispose();
                continue;
            }

            var address = application.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return (application, new Uri(address.TrimEnd('/') + "/"));
        }
    }
}
