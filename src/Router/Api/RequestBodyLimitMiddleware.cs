using ComfyOperator.Router.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Api;

/// <summary>
/// Refuses bodies over <c>Router:MaxRequestBodyBytes</c> with 413: at once when Content-Length says
/// so, otherwise while reading (chunked uploads). Kestrel's own limit is set too, so the server
/// stops reading early; the stream wrapper covers hosts without one (the test server).
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<RouterOptions> options)
{
    private readonly long _limit = options.Value.MaxRequestBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > _limit)
        {
            await TooLarge(_limit).ExecuteAsync(context);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = _limit;
        }

        context.Request.Body = new LimitedReadStream(context.Request.Body, _limit);
        await next(context);
    }

    public static IResult TooLarge(long limit, string setting = "Router:MaxRequestBodyBytes") =>
        TypedResults.Problem(Problems.Details(StatusCodes.Status413PayloadTooLarge, Problems.BodyTooLarge, "The request body is too large",
            $"Request bodies are limited to {limit} bytes ({setting}).", "body"));
}
