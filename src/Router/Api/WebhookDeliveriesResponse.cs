using ComfyOperator.Router.Webhooks;

namespace ComfyOperator.Router.Api;

/// <summary>A run's webhook deliveries as <c>GET /v1/runs/{id}/webhooks</c> answers them.</summary>
internal sealed record WebhookDeliveriesResponse(IReadOnlyList<WebhookDelivery> Data);
