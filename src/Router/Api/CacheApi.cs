using ComfyOperator.Router.Inputs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.Api;

/// <summary><c>POST /v1/cache/prefetch</c> warms the input cache; <c>GET /v1/cache</c> shows its usage.</summary>
internal static class CacheApi
{
    public static IEndpointRouteBuilder MapCacheApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/cache").WithTags("Cache");
        group.MapGet("/", (InputCache cache) => TypedResults.Ok(cache.Usage()));
        group.MapPost("/prefetch", PrefetchAsync);
        return app;
    }

    private static async Task<IResult> PrefetchAsync(CachePrefetchRequest? request, InputCache cache, CancellationToken cancellationToken)
    {
        if (request?.Url is not { Length: > 0 } url)
        {
            return Problems.Invalid("'url' is required.", "url");
        }

        var kind = InputKind.File;
        if (request.Kind is { Length: > 0 } kindText && !Enum.TryParse(kindText, ignoreCase: true, out kind))
        {
            return Problems.Invalid("'kind' must be image, file or model.", "kind");
        }

        try
        {
            var cached = await cache.GetOrDownloadAsync("url", url, kind, request.Sha256, pin: false, cancellationToken);
            return TypedResults.Ok(new { cached.FileName, cached.Size, cached.Sha256, cached.Downloaded });
        }
        catch (InputRefusedException refused)
        {
            return Problems.Invalid(refused.Message, refused.InputName);
        }
    }
}
