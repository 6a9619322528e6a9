using ComfyOperator.Router.Api;
using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Security;

/// <summary>
/// The accepted credentials: Basic user name/password and API keys from configuration and from an
/// optional keys file (one per line, <c>#</c> comments), which is re-read when its timestamp changes
/// so that a rotated Kubernetes Secret takes effect without a restart. Only hashes are kept.
/// It is a hosted service only to be created as the host starts (after the options are validated,
/// before the server listens), so a warning about default credentials comes before the first request.
/// </summary>
internal sealed partial class CredentialStore : IHostedService
{
    private readonly RouterOptions _options;
    private readonly ILogger<CredentialStore> _logger;
    private readonly byte[]? _username;
    private readonly byte[]? _password;
    private readonly IReadOnlyList<byte[]> _configuredKeys;
    private readonly IReadOnlyList<string> _configuredIds;
    private readonly Lock _gate = new();
    private IReadOnlyList<byte[]> _fileKeys = [];
    private IReadOnlyList<string> _fileIds = [];
    private DateTime _fileStamp = DateTime.MinValue;
    private long _fileGeneration;

    public CredentialStore(IOptions<RouterOptions> options, ILogger<CredentialStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (!string.IsNullOrEmpty(_options.Username))
        {
            _username = SecretComparer.Hash(_options.Username);
            _password = SecretComparer.Hash(_options.Password);
            if (_options.Username == RouterOptions.DefaultUsername && _options.Password == RouterOptions.DefaultPassword)
            {
                LogDefaultBasicCredentials();
            }
        }

        var keys = _options.ApiKeys.SelectMany(SplitKeys).ToList();
        _configuredKeys = [.. keys.Select(SecretComparer.Hash)];
        _configuredIds = [.. keys.Select(RunOwner.KeyId).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The ids (never the keys) of the keys from the configuration and the keys file, with where each came from.</summary>
    public IReadOnlyList<(string Id, string Source)> KeyIds()
    {
        FileKeys();
        IReadOnlyList<string> fileIds;
        lock (_gate)
        {
            fileIds = _fileIds;
        }

        return [.. _configuredIds.Select(id => (id, "config")), .. fileIds.Select(id => (id, "file"))];
    }

    public bool BasicEnabled => _username is not null;

    /// <summary>Counts the times the keys file was read: a credential verified before it changed is checked again.</summary>
    public long KeysFileGeneration
    {
        get
        {
            FileKeys();
            return Interlocked.Read(ref _fileGeneration);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public bool IsValidBasic(string username, string password)
    {
        if (_username is null || _password is null)
        {
            return false;
        }

        // Evaluate both comparisons so a wrong user name costs the same as a wrong password.
        var userOk = SecretComparer.Matches(_username, username);
        var passwordOk = SecretComparer.Matches(_password, password);
        return userOk & passwordOk;
    }

    /// <param name="keyHash">The presented key's <see cref="SecretComparer.Hash"/>.</param>
    public bool IsValidApiKey(byte[] keyHash)
    {
        var found = false;
        foreach (var hash in _configuredKeys)
        {
            found |= SecretComparer.Matches(hash, keyHash);
        }

        foreach (var hash in FileKeys())
        {
            found |= SecretComparer.Matches(hash, keyHash);
        }

        return found;
    }

    private IReadOnlyList<byte[]> FileKeys()
    {
        var path = _options.ApiKeysFile;
        if (string.IsNullOrEmpty(path))
        {
            return [];
        }

        try
        {
            var stamp = File.GetLastWriteTimeUtc(path);
            lock (_gate)
            {
                if (stamp != _fileStamp)
                {
                    var keys = File.ReadAllLines(path).SelectMany(SplitKeys).ToList();
                    _fileKeys = [.. keys.Select(SecretComparer.Hash)];
                    _fileIds = [.. keys.Select(RunOwner.KeyId).Distinct(StringComparer.Ordinal)];
                    _fileStamp = stamp;
                    Interlocked.Increment(ref _fileGeneration);
                    LogKeysFileLoaded(_logger, path, _fileKeys.Count);
                }

                return _fileKeys;
            }
        }
        catch (IOException ex)
        {
            // Keep the keys we had: a Secret being swapped is briefly unreadable.
            LogKeysFileUnreadable(_logger, path, ex);
            return _fileKeys;
        }
    }

    private static IEnumerable<string> SplitKeys(string line)
    {
        var comment = line.IndexOf('#', StringComparison.Ordinal);
        var text = comment >= 0 ? line[..comment] : line;
        return text.Split([',', ';', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [LoggerMessage(EventId = EventIds.CredentialStoreDefaultBasicCredentials, Level = LogLevel.Warning,
        Message = "Basic auth accepts the default admin/admin: set COMFY_ROUTER__PASSWORD (or COMFY_ROUTER__USERNAME and __PASSWORD both empty to turn Basic auth off) before exposing the router")]
    private partial void LogDefaultBasicCredentials();

    [LoggerMessage(EventId = EventIds.CredentialStoreKeysFileLoaded, Level = LogLevel.Information, Message = "Loaded {Count} API keys from {Path}")]
    private static partial void LogKeysFileLoaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = EventIds.CredentialStoreKeysFileUnreadable, Level = LogLevel.Warning, Message = "Could not read the API keys file {Path}; keeping the previous keys")]
    private static partial void LogKeysFileUnreadable(ILogger logger, string path, Exception exception);
}
