using System.Text.Json;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Api;

/// <summary>A run as the API shows it.</summary>
internal sealed record RunResponse(
    string Id,
    string Status,
    int Priority,
    int Attempts,
    string? Worker,
    string? PromptId,
    string? Reason,
    RunFailureResponse? Error,
    JsonElement? Metadata,
    string? IdempotencyKey,
    DateTimeOffset QueuedAt,
    DateTimeOffset? DispatchedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<RunOutputResponse> Outputs,
    RunLinks Links)
{
    /// <summary>The workflow (WorkflowDeployment or preset) the run was submitted to; null for a raw graph.</summary>
    public string? Workflow { get; init; }

    /// <summary>Who submitted it: an API key id (<c>key-…</c>) or <c>user-NAME</c>; null when auth is off.</summary>
    public string? Owner { get; init; }

    public static RunResponse From(RunRecord run, IPresignedOutputStore? presigner = null, DateTimeOffset now = default)
    {
        var self = $"/v1/runs/{run.Id}";
        JsonElement? metadata = null;
        if (run.Metadata is not null)
        {
            using var document = JsonDocument.Parse(run.Metadata);
            metadata = document.RootElement.Clone();
        }

        return new RunResponse(
            run.Id,
            run.Status.ToWire(),
            run.Priority,
            run.Attempts,
            run.Worker,
            run.PromptId,
            run.Reason,
            run.Failure is null ? null : new RunFailureResponse(run.Failure.Code, run.Failure.Message, run.Failure.NodeId, run.Failure.NodeType, run.Failure.ExceptionType),
            metadata,
            run.IdempotencyKey,
            run.QueuedAt,
            run.DispatchedAt,
            run.StartedAt,
            run.FinishedAt,
            [.. run.Outputs.Select(o => new RunOutputResponse(o.Name, o.NodeId, o.ContentType, o.Size, $"{self}/outputs/{o.Name}")
            {
                Output = o.Output,
                DownloadUrl = presigner?.GetPresignedUrl(run.Id, o.StorePath).ToString(),
                ExpiresAt = presigner is null ? null : now + presigner.PresignedUrlTtl,
            })],
            new RunLinks(self, $"{self}/events", $"{self}/preview", self))
        {
            Workflow = run.Deployment,
            Owner = run.Owner,
        };
    }
}
