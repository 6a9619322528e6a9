namespace ComfyOperator.Router.Webhooks;

/// <summary>Webhook delivery settings, bound from <c>Router:Webhooks</c>.</summary>
internal sealed class WebhookOptions
{
    public const string SectionName = "Router:Webhooks";

    /// <summary>Signing secret, <c>whsec_</c> + base64 (Standard Webhooks). Required to send webhooks.</summary>
    public string? Secret { get; set; }

    /// <summary>How long a failing delivery keeps being retried, measured from when it was enqueued.</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the dispatcher looks for due deliveries when not woken by a new one.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Events sent when a run's webhook names none.</summary>
    public List<string> DefaultEvents { get; } = [WebhookEvents.Succeeded, WebhookEvents.Failed, WebhookEvents.Cancelled];
}
