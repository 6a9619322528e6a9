using ComfyOperator.Entities;

namespace ComfyOperator.Router.Workflows;

/// <summary>Router settings of a WorkflowDeployment that the v1alpha1 spec has no field for yet.</summary>
internal static class WorkflowAnnotations
{
    /// <summary>Placement policy for the workflow's runs (LeastQueued, RoundRobin, PowerOfTwoChoices, ModelAffinity).</summary>
    public const string PlacementPolicy = EntityApi.Group + "/placement-policy";

    /// <summary>"true": runs wait for a worker instead of getting 503 when none is ready.</summary>
    public const string QueueWhenUnavailable = EntityApi.Group + "/queue-when-unavailable";

    /// <summary>Default webhook URL for the workflow's runs (a run's own <c>webhook</c> query parameter wins).</summary>
    public const string Webhook = EntityApi.Group + "/webhook";

    /// <summary>Comma-separated events for <see cref="Webhook"/>; empty = run.succeeded, run.failed, run.cancelled.</summary>
    public const string WebhookEvents = EntityApi.Group + "/webhook-events";
}
