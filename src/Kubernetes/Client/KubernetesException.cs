using System.Net;
using ComfyOperator.Kubernetes.Models;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// The API answered with an error (an HTTP error or a watch ERROR frame). Carries the API's
/// <see cref="Models.Status"/> so callers can branch on its code and reason.
/// </summary>
public sealed class KubernetesException : Exception
{
    public KubernetesException()
        : this(new Status { Outcome = "Failure", Message = "Kubernetes API error" })
    {
    }

    public KubernetesException(string message)
        : this(new Status { Outcome = "Failure", Message = message })
    {
    }

    public KubernetesException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = new Status { Outcome = "Failure", Message = message };
    }

    public KubernetesException(Status status, Exception? innerException = null)
        : base(Describe(status), innerException)
    {
        Status = status;
    }

    public Status Status { get; }

    /// <summary>The HTTP status code (or the Status body's code), 0 when unknown.</summary>
    public int Code => Status.Code ?? 0;

    public string? Reason => Status.Reason;

    public IReadOnlyList<StatusCause> Causes => Status.Details?.Causes is { } causes ? [.. causes] : [];

    public bool IsNotFound => Code == (int)HttpStatusCode.NotFound;

    /// <summary>409 with reason Conflict: a stale resourceVersion or a failed precondition.</summary>
    public bool IsConflict => Code == (int)HttpStatusCode.Conflict && !IsAlreadyExists;

    public bool IsAlreadyExists => Code == (int)HttpStatusCode.Conflict && Reason == "AlreadyExists";

    public bool IsInvalid => Code == (int)HttpStatusCode.UnprocessableEntity;

    /// <summary>410 (reason Expired or Gone): the resourceVersion is too old; relist.</summary>
    public bool IsGone => Code == (int)HttpStatusCode.Gone || Reason is "Expired" or "Gone";

    public bool IsUnauthorized => Code == (int)HttpStatusCode.Unauthorized;

    public bool IsForbidden => Code == (int)HttpStatusCode.Forbidden;

    public bool IsTooManyRequests => Code == (int)HttpStatusCode.TooManyRequests;

    public bool IsServerError => Code >= 500;

    private static string Describe(Status status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var text = $"Kubernetes API {status.Code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "error"} {status.Reason}: {status.Message}";
        return status.Details?.Causes is { Count: > 0 } causes
            ? text + " (" + string.Join("; ", causes.Select(c => $"{c.Field}: {c.Message}")) + ")"
            : text;
    }
}
