using ComfyOperator.Router.Configuration;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Api;

/// <summary>Turns exceptions into ProblemDetails with a stable type: bad requests keep their status (413 for big bodies), the rest is a 500 without internals.</summary>
internal sealed partial class ProblemExceptionHandler(IOptions<RouterOptions> options, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        IResult result;
        if (exception is BadHttpRequestException bad)
        {
            result = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? RequestBodyLimitMiddleware.TooLarge(options.Value.MaxRequestBodyBytes)
                : TypedResults.Problem(Problems.Details(bad.StatusCode, Problems.InvalidRequest, "The request is not valid", bad.Message));
        }
        else
        {
            LogUnhandled(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
            result = TypedResults.Problem(Problems.Details(StatusCodes.Status500InternalServerError, Problems.Internal, "Internal error",
                "The router failed to handle this request; the log has the details."));
        }

        await result.ExecuteAsync(httpContext);
        return true;
    }

    [LoggerMessage(EventId = EventIds.ProblemExceptionHandlerUnhandled, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}
