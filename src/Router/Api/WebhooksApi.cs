using ComfyOperator.Router.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.Api;

/// <summary><c>GET /v1/runs/{id}/webhooks</c>: the webhook deliveries of a run and how they went.</summary>
internal static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/runs/{id}/webhooks", async (string id, WebhookDispatcher webhooks, CancellationToken cancellationToken) =>
                TypedResults.Ok(new WebhookDeliveriesResponse(await webhooks.ListAsync(id, cancellationToken))))
            .WithTags("Webhooks");
        return app;
    }
}
