using System.Collections;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Hosting;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Configuration;

public sealed class RouterOptionsTests
{
    [Theory]
    [InlineData("Router:PendingLimit", "0", "Router:PendingLimit (COMFY_ROUTER__PENDING_LIMIT) must be between 1")]
    [InlineData("Router:Port", "70000", "Router:Port (COMFY_ROUTER__PORT) must be between 1 and 65535")]
    [InlineData("Router:PlacementPolicy", "Fastest", "Router:PlacementPolicy (COMFY_ROUTER__PLACEMENT_POLICY) 'Fastest' is unknown")]
    [InlineData("Router:WebUiProxyWrites", "everyone", "Router:WebUiProxyWrites (COMFY_ROUTER__WEB_UI_PROXY_WRITES) 'everyone' is unknown")]
    [InlineData("Router:WebUiProxyMaxBodyBytes", "0", "Router:WebUiProxyMaxBodyBytes (COMFY_ROUTER__WEB_UI_PROXY_MAX_BODY_BYTES) must be at least 1 byte")]
    [InlineData("Router:WebUiAdminPaths", "/manager,customnode", "Router:WebUiAdminPaths (COMFY_ROUTER__WEB_UI_ADMIN_PATHS): 'customnode' is not a path prefix")]
    [InlineData("Router:Nodes:0", "http://gpu[9-1]:8188", "'http://gpu[9-1]:8188'")]
    [InlineData("Router:ServersFile", "/nonexistent/servers.json", "Router:ServersFile (COMFY_ROUTER__SERVERS_FILE) '/nonexistent/servers.json' does not exist")]
    [InlineData("Router:Host", "not a host", "Router:Host (COMFY_ROUTER__HOST)")]
    [InlineData("Router:RunTimeout", "00:00:00", "Router:RunTimeout (COMFY_ROUTER__RUN_TIMEOUT) must be a positive duration")]
    [InlineData("Router:ServersFilePollInterval", "-00:00:01", "Router:ServersFilePollInterval (COMFY_ROUTER__SERVERS_FILE_POLL_INTERVAL) must be a positive duration")]
    [InlineData("Router:Inputs:Visibility", "symlink", "Router:Inputs:Visibility (COMFY_ROUTER__INPUTS__VISIBILITY) must be 'upload' or 'link'")]
    [InlineData("Router:Inputs:Visibility", "link", "needs Router:Inputs:WorkerInputDirectory")]
    [InlineData("Router:Outputs:Kind", "ftp", "Router:Outputs:Kind (COMFY_ROUTER__OUTPUTS__KIND) must be 'local' or 's3'")]
    [InlineData("Router:Outputs:Kind", "s3", "Router:Outputs:S3:Bucket (COMFY_ROUTER__OUTPUTS__S3__BUCKET) is required")]
    [InlineData("Router:Webhooks:Secret", "whsec_not base64!", "Router:Webhooks:Secret (COMFY_ROUTER__WEBHOOKS__SECRET) must be 'whsec_' followed by base64")]
    [InlineData("Router:Webhooks:PollInterval", "00:00:00", "Router:Webhooks:RetryWindow, InitialRetryDelay, RequestTimeout and PollInterval")]
    [InlineData("Router:Store:Kind", "mysql", "Router:Store:Kind (COMFY_ROUTER__STORE__KIND) 'mysql' is unknown; use one of sqlite, postgres")]
    [InlineData("Router:Store:Kind", "postgres", "Router:Store:ConnectionString (COMFY_ROUTER__STORE__CONNECTION_STRING) is required")]
    [InlineData("Router:Store:ConnectionString", "Host=db", "Router:Store:ConnectionString (COMFY_ROUTER__STORE__CONNECTION_STRING) is set, but Router:Store:Kind (COMFY_ROUTER__STORE__KIND) is 'sqlite'")]
    [InlineData("Router:Store:ReplicaMode", "active", "Router:Store:ReplicaMode (COMFY_ROUTER__STORE__REPLICA_MODE) 'active' needs several routers on one database, but Router:Store:Kind (COMFY_ROUTER__STORE__KIND) is 'sqlite'")]
    [InlineData("Router:Store:ReplicaMode", "both", "Router:Store:ReplicaMode (COMFY_ROUTER__STORE__REPLICA_MODE) 'both' is unknown; use one of standby, active")]
    public void Start_BadSetting_FailsNamingTheSetting(string key, string value, string expected)
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { [key] = value });

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var text = Flatten(ex);
        Assert.True(text.Contains(expected, StringComparison.Ordinal), $"'{expected}' not in: {text}");
    }

    [Fact]
    public void Start_UnconvertibleNumber_FailsNamingTheSetting()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:HistoryLimit"] = "lots" });

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Router:HistoryLimit", Flatten(ex), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_UnparsablePostgresConnectionString_FailsNamingTheSettingWithoutThePassword()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Store:Kind"] = "postgres",
            ["Router:Store:ConnectionString"] = "Host=db;Password=hunter2-secret;Frobnicate=yes",
        });

        var text = Flatten(Assert.ThrowsAny<Exception>(() => factory.CreateClient()));

        Assert.Contains("Router:Store:ConnectionString (COMFY_ROUTER__STORE__CONNECTION_STRING) is not a valid Npgsql connection string", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentSource_SeedNames_MapOntoRouterSettings()
    {
        var variables = new Hashtable
        {
            ["COMFY_ROUTER__PENDING_LIMIT"] = "7",
            ["COMFY_ROUTER__HISTORY_LIMIT"] = "9",
            ["COMFY_ROUTER__USERNAME"] = "alice",
            ["COMFY_ROUTER__PASSWORD"] = "s3cret",
            ["COMFY_ROUTER__HOST"] = "127.0.0.1",
            ["COMFY_ROUTER__PORT"] = "9090",
            ["COMFY_ROUTER__NODES"] = "http://gpu[1-2]:8188",
            ["COMFY_ROUTER__Router__MaxAttempts"] = "5",
            ["COMFY_ROUTER__Logging__LogLevel__Default"] = "Debug",
            ["PORT"] = "1234",
            ["OTHER_PENDING_LIMIT"] = "1",
        };
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Router:Nodes:0"] = "http://from-appsettings:8188" })
            .Add(new RouterEnvironmentVariablesSource(variables))
            .Build();

        var options = new RouterOptions();
        configuration.GetSection(RouterOptions.SectionName).Bind(options);

        Assert.Equal(7, options.PendingLimit);
        Assert.Equal(9, options.HistoryLimit);
        Assert.Equal("alice", options.Username);
        Assert.Equal("s3cret", options.Password);
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(9090, options.Port);
        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(["http://from-appsettings:8188", "http://gpu[1-2]:8188"], options.Nodes);
        Assert.Equal("Debug", configuration["Logging:LogLevel:Default"]);
    }

    [Fact]
    public void EnvironmentSource_LoadBalancerVariables_AreAliasesOfNodesAndServersFile()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Router:Nodes:0"] = "http://from-appsettings:8188" })
            .Add(new RouterEnvironmentVariablesSource(new Hashtable
            {
                ["DEV_SERVER_COMFYUI_URL"] = "http://server[1-3]:8188; http://backup:8188",
                ["DEV_SERVER_COMFYUI_FILE"] = "file:///etc/comfyui/servers.json",
            }))
            .Build();

        var options = new RouterOptions();
        configuration.GetSection(RouterOptions.SectionName).Bind(options);

        Assert.Equal(["http://from-appsettings:8188", "http://server[1-3]:8188; http://backup:8188"], options.Nodes);
        Assert.Equal("file:///etc/comfyui/servers.json", options.ServersFile);
        Assert.Equal("/etc/comfyui/servers.json", ComfyOperator.Router.Nodes.NodeAddressParser.ToFilePath(options.ServersFile!));
    }

    [Fact]
    public void EnvironmentSource_OwnServersFileSetting_WinsOverTheLoadBalancersName()
    {
        var configuration = new ConfigurationBuilder()
            .Add(new RouterEnvironmentVariablesSource(new Hashtable
            {
                ["DEV_SERVER_COMFYUI_FILE"] = "file:///etc/comfyui/servers.json",
                ["COMFY_ROUTER__SERVERS_FILE"] = "/config/servers.txt",
            }))
            .Build();

        Assert.Equal("/config/servers.txt", configuration["Router:ServersFile"]);
    }

    [Theory]
    [InlineData("STORE__CONNECTION_STRING", "Router:Store:ConnectionString")]
    [InlineData("STORE__REPLICA_MODE", "Router:Store:ReplicaMode")]
    [InlineData("PENDING_LIMIT", "Router:PendingLimit")]
    [InlineData("DOWNLOAD__CACHE_DIR", "Router:Download:CacheDir")]
    [InlineData("Router__PendingLimit", "Router:PendingLimit")]
    [InlineData("NODES", "Router:Nodes:environment")]
    public void MapKey_EnvironmentName_GivesConfigurationKey(string name, string expected)
    {
        Assert.Equal(expected, RouterEnvironmentVariablesProvider.MapKey(name));
    }

    [Fact]
    public void Validate_Defaults_Pass()
    {
        var result = new RouterOptionsValidator().Validate(null, new RouterOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_NoCredentialsAtAll_Fails()
    {
        var result = new RouterOptionsValidator().Validate(null, new RouterOptions { Username = "", Password = "" });

        Assert.True(result.Failed);
        Assert.Contains("No credentials", result.FailureMessage, StringComparison.Ordinal);
    }

    private static string Flatten(Exception ex)
    {
        var text = ex.ToString();
        if (ex is OptionsValidationException validation)
        {
            text += string.Join('\n', validation.Failures);
        }

        return text;
    }
}
