using System.Security.Cryptography;
using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.Api;

/// <summary>
/// <c>/v1/keys</c> and <c>/v1/usage</c>, for administrators: API keys created here are shown once,
/// kept as their SHA-256 in the router database and usable at once; keys from the configuration and
/// the keys file are listed by id, read-only.
/// </summary>
internal static class KeysApi
{
    /// <summary>Prefix of created keys, so a leaked one is recognisable in logs and secret scanners.</summary>
    public const string KeyPrefix = "cok_";

    private const int MaxNameLength = 100;

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/keys").WithTags("Keys").RequireAuthorization(RouterAuthentication.AdminPolicy);
        api.MapGet("/", ListAsync)
            .WithName("ListKeys")
            .WithSummary("Every API key by id: created here (api), from the configuration (config) or the keys file (file)");
        api.MapPost("/", CreateAsync)
            .WithName("CreateKey")
            .WithSummary("Create an API key {name, admin?}: the key is in this answer only");
        api.MapDelete("/{id}", RevokeAsync)
            .WithName("RevokeKey")
            .WithSummary("Revoke a key created here; it is refused from then on");
        app.MapGet("/v1/usage", UsageAsync)
            .WithTags("Keys")
            .WithName("Usage")
            .WithSummary("Runs, failures and GPU-seconds per key and per workflow over the last day (window=day) or week (window=week)")
            .RequireAuthorization(RouterAuthentication.AdminPolicy);
        return app;
    }

    internal static async Task<Ok<IReadOnlyList<KeyResponse>>> ListAsync(IApiKeyStore keys, CredentialStore credentials, CancellationToken cancellationToken)
    {
        var created = await keys.ListAsync(cancellationToken);
        IReadOnlyList<KeyResponse> all =
        [
            .. credentials.KeyIds().Select(k => new KeyResponse(k.Id, k.Source, null, true, null, null, true)),
            .. created.Select(k => new KeyResponse(k.Id, "api", k.Name, k.Admin, k.CreatedAt, k.RevokedAt, false)),
        ];
        return TypedResults.Ok(all);
    }

    internal static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateAsync(
        CreateKeyRequest? body, IApiKeyStore keys, TimeProvider time, CancellationToken cancellationToken)
    {
        var name = body?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            return Problems.Invalid($"'name' is required: what the key is for, up to {MaxNameLength} characters.", "name");
        }

        // 32 random bytes: guessing is hopeless, so one unsalted SHA-256 is enough to store it.
        while (true)
        {
            var key = KeyPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var stored = new StoredApiKey(RunOwner.KeyId(key), name, Convert.ToHexStringLower(SecretComparer.Hash(key)), body!.Admin == true, time.GetUtcNow(), null);
            if (await keys.CreateAsync(stored, cancellationToken))
            {
                return TypedResults.Created($"/v1/keys/{stored.Id}", new CreatedKeyResponse(stored.Id, stored.Name, stored.Admin, stored.CreatedAt, key));
            }

            // The 8-hex id is taken (one in four billion): draw another key.
        }
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string id, IApiKeyStore keys, CredentialStore credentials, CredentialsAuthenticator authenticator, TimeProvider time, CancellationToken cancellationToken)
    {
        if (credentials.KeyIds().FirstOrDefault(k => k.Id == id) is { Id: not null } fixedKey)
        {
            return Problems.ReadOnlyKey(id, fixedKey.Source);
        }

        if (await keys.RevokeAsync(id, time.GetUtcNow(), cancellationToken))
        {
            // After the revocation is stored: a request checking the key from now on reads it revoked.
            authenticator.Forget();
            return TypedResults.NoContent();
        }

        return (await keys.ListAsync(cancellationToken)).Any(k => k.Id == id) ? TypedResults.NoContent() : Problems.UnknownKey(id);
    }

    internal static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> UsageAsync(
        string? window, IUsageStore usage, TimeProvider time, CancellationToken cancellationToken)
    {
        var span = (window ?? "day") switch
        {
            "day" => TimeSpan.FromDays(1),
            "week" => TimeSpan.FromDays(7),
            _ => TimeSpan.Zero,
        };
        if (span == TimeSpan.Zero)
        {
            return Problems.Invalid("'window' must be 'day' or 'week'.", "window");
        }

        var since = time.GetUtcNow() - span;
        var rows = await usage.UsageAsync(since, cancellationToken);
        return TypedResults.Ok(new UsageResponse(window ?? "day", since, Sum(rows, r => r.Owner), Sum(rows, r => r.Workflow), rows));
    }

    private static List<UsageTotal> Sum(IReadOnlyList<UsageRow> rows, Func<UsageRow, string?> by) =>
        [.. rows.GroupBy(by)
            .Select(g => new UsageTotal(g.Key, g.Sum(r => r.Runs), g.Sum(r => r.Failures), g.Sum(r => r.GpuSeconds)))
            .OrderByDescending(t => t.Runs)];
}
