using System.Net;
using ComfyOperator.Router.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace ComfyOperator.Router.Hosting;

/// <summary>Kestrel set-up from <c>Router:Host</c>/<c>Router:Port</c> (COMFY_ROUTER__HOST/PORT), unless --urls/ASPNETCORE_URLS says otherwise.</summary>
internal static class RouterHosting
{
    public static void ConfigureKestrel(IConfiguration configuration, KestrelServerOptions kestrel)
    {
        if (!string.IsNullOrEmpty(configuration["urls"]))
        {
            return;
        }

        var options = new RouterOptions();
        configuration.GetSection(RouterOptions.SectionName).Bind(options);
        kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        if (options.Port is < 1 or > 65535)
        {
            // Validation reports it with the setting's name; do not fail here with a less useful message.
            return;
        }

        if (options.Host is "*" or "+")
        {
            kestrel.ListenAnyIP(options.Port);
        }
        else if (string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(options.Port);
        }
        else if (IPAddress.TryParse(options.Host, out var address))
        {
            kestrel.Listen(address, options.Port);
        }
    }
}
