using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace ComfyOperator.Router.Tests.Security;

public sealed class CredentialStoreTests
{
    [Fact]
    public void Constructor_DefaultAdminCredentials_WarnsToChangeThem()
    {
        var logger = new ListLogger();
        var store = new CredentialStore(Options.Create(new RouterOptions()), logger);

        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("COMFY_ROUTER__PASSWORD", warning.Message, StringComparison.Ordinal);
        Assert.True(store.IsValidBasic("admin", "admin"));
    }

    [Fact]
    public async Task RouterStart_DefaultAdminCredentials_WarnsAtStartBeforeAnyRequest()
    {
        var logs = new CapturedLogs();
        await using var factory = new RouterFactory(services: s => s.AddSingleton<ILoggerProvider>(logs));

        _ = factory.Server;

        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Category == typeof(CredentialStore).FullName && e.Message.Contains("COMFY_ROUTER__PASSWORD", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("admin", "s3cret")]
    [InlineData("ops", "admin")]
    [InlineData("", "")]
    public void Constructor_OwnCredentialsOrBasicOff_NoWarning(string username, string password)
    {
        var logger = new ListLogger();
        _ = new CredentialStore(Options.Create(new RouterOptions { Username = username, Password = password }), logger);

        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Constructor_DefaultCredentials_PasswordNeverLogged()
    {
        var logger = new ListLogger();
        _ = new CredentialStore(Options.Create(new RouterOptions { Password = "admin" }), logger);

        // The warning names the well-known default, never a configured secret: with a real password there is no line at all.
        var withSecret = new ListLogger();
        _ = new CredentialStore(Options.Create(new RouterOptions { Password = "hunter2-secret" }), withSecret);
        Assert.DoesNotContain(withSecret.Entries, e => e.Message.Contains("hunter2-secret", StringComparison.Ordinal));
        Assert.NotEmpty(logger.Entries);
    }

    private sealed class ListLogger : ILogger<CredentialStore>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
