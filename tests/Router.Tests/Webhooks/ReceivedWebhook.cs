namespace ComfyOperator.Router.Tests.Webhooks;

internal sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body);
