using System.Diagnostics;
using System.Text.Json;

namespace ComfyOperator.Kubernetes.Configuration;

/// <summary>
/// The kubeconfig <c>exec</c> credential plugin: runs the command with <c>KUBERNETES_EXEC_INFO</c>,
/// reads an <c>ExecCredential</c> from stdout, caches its token until the expiry it states.
/// Only token credentials are supported (not client certificates from the plugin).
/// </summary>
internal sealed class ExecCredentialProvider(KubeconfigExec exec, string baseDirectory, TimeProvider timeProvider) : ITokenProvider, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset? _expiresAt;

    public void Dispose() => _gate.Dispose();

    public async ValueTask<string?> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!forceRefresh && _token is not null && (_expiresAt is null || _expiresAt > timeProvider.GetUtcNow()))
            {
                return _token;
            }

            (_token, _expiresAt) = await RunAsync(cancellationToken).ConfigureAwait(false);
            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(string Token, DateTimeOffset? ExpiresAt)> RunAsync(CancellationToken cancellationToken)
    {
        var apiVersion = exec.ApiVersion ?? "client.authentication.k8s.io/v1";
        var command = exec.Command ?? throw new InvalidOperationException("kubeconfig exec plugin has no command.");
        if (command.Contains('/', StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(command))
        {
            command = System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDirectory, command));
        }

        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in exec.Args ?? [])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var env in exec.Env ?? [])
        {
            if (env.Name is not null)
            {
                start.Environment[env.Name] = env.Value ?? string.Empty;
            }
        }

        start.Environment["KUBERNETES_EXEC_INFO"] =
            "{\"apiVersion\":\"" + apiVersion + "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";

        using var timeout = new CancellationTokenSource(Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start exec plugin '{command}'.");
        var stdout = process.StandardOutput.ReadToEndAsync(linked.Token);
        var stderr = process.StandardError.ReadToEndAsync(linked.Token);
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            // stderr of a credential plugin is meant for the user; it carries no secret.
            throw new InvalidOperationException($"exec plugin '{command}' exited with {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
        }

        using var document = JsonDocument.Parse(output);
        if (!document.RootElement.TryGetProperty("status", out var status) ||
            !status.TryGetProperty("token", out var token) || token.GetString() is not { Length: > 0 } value)
        {
            throw new InvalidOperationException($"exec plugin '{command}' returned no status.token (client certificates from plugins are not supported).");
        }

        DateTimeOffset? expiresAt = status.TryGetProperty("expirationTimestamp", out var expiry) && expiry.ValueKind == JsonValueKind.String
            ? DateTimeOffset.Parse(expiry.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : null;
        return (value, expiresAt);
    }
}
