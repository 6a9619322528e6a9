using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Console.Tests.Support;

/// <summary>The router on a real 127.0.0.1 port (the browser needs one), with a Basic user, an API key and the given workers.</summary>
public sealed class ConsoleRouter : WebApplicationFactory<Program>
{
    public const string Username = "admin";
    public const string Password = "console-test-password";
    public const string ApiKey = "console-test-key-0123456789";

    private readonly Dictionary<string, string?> _settings;

    public ConsoleRouter(IEnumerable<Uri> workers)
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "console-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Router:DataDirectory"] = DataDirectory,
            ["Router:Username"] = Username,
            ["Router:Password"] = Password,
            ["Router:ApiKeys:0"] = ApiKey,
            ["Router:Nodes:0"] = string.Join(",", workers.Select(w => w.ToString())),
            ["Router:ProbeInterval"] = "00:00:00.250",
            ["Router:ProbeTimeout"] = "00:00:02",
            ["Router:WorkerLostGrace"] = "00:00:01",
        };
        UseKestrel(0);
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
    }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; }

    /// <summary>An HttpClient over the real socket, with no credentials.</summary>
    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress };

    /// <summary>An HttpClient over the real socket with the configured API key.</summary>
    public HttpClient CreateAuthorizedHttpClient()
    {
        var client = CreateHttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
