using ComfyOperator.Router.Api;
using ComfyOperator.Router.ComfyApi;
using ComfyOperator.Router.ComfyRouterApi;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.UserData;
using ComfyOperator.Router.WebConsole;
using ComfyOperator.Router.WebUi;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Hosting;

/// <summary>The HTTP pipeline and every endpoint group.</summary>
internal static class RouterEndpoints
{
    public const string OpenApiPath = "/openapi/v1.json";

    public static WebApplication UseComfyRouter(this WebApplication app)
    {
        app.UseRouterMetrics();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseWebSockets();
        app.UseAuthentication();
        app.UseAuthorization();

        // The API explorer is behind the same credentials as the API it describes.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/docs"), docs => docs.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated != true)
            {
                await context.ChallengeAsync(RouterAuthentication.Scheme);
                return;
            }

            await next(context);
        }));
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "docs";
            options.SwaggerEndpoint(OpenApiPath, "ComfyOperator router v1");
            options.DocumentTitle = "ComfyOperator router API";
        });

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthApi();
        app.MapRunsApi();
        app.MapNodesApi();
        app.MapCacheApi();
        app.MapWebhooksApi();
        app.MapWorkflowsApi();
        app.MapComfyApi();
        app.MapUserDataApi();
        app.MapComfyRouterApi();
        app.MapKeysApi();
        app.MapConsole();
        app.MapWebUi();
        return app;
    }
}
