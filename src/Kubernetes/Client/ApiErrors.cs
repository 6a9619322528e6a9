using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Reads the API's answer out of the official client's <see cref="HttpOperationException"/> (its HTTP
/// code and the <see cref="V1Status"/> in its body), the way client-go's <c>apierrors.IsNotFound</c>
/// and friends do, so callers can branch on what went wrong.
/// </summary>
public static class ApiErrors
{
    /// <summary>The HTTP status code of the answer.</summary>
    public static int Code(this HttpOperationException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Response is null ? 0 : (int)exception.Response.StatusCode;
    }

    /// <summary>The <see cref="V1Status"/> the API sent with the error, when its body is one.</summary>
    public static V1Status? Status(this HttpOperationException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var content = exception.Response?.Content;
        if (string.IsNullOrEmpty(content))
        {
            return null;
        }

        try
        {
            return KubernetesJson.Deserialize<V1Status>(content);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The machine reason of the answer (<c>AlreadyExists</c>, <c>Conflict</c>, <c>Expired</c>...).</summary>
    public static string? Reason(this HttpOperationException exception) => exception.Status()?.Reason;

    public static bool IsNotFound(this HttpOperationException exception) => exception.Code() == (int)HttpStatusCode.NotFound;

    /// <summary>409 for a stale resourceVersion or a failed precondition (not for a name that already exists).</summary>
    public static bool IsConflict(this HttpOperationException exception) =>
        exception.Code() == (int)HttpStatusCode.Conflict && !exception.IsAlreadyExists();

    public static bool IsAlreadyExists(this HttpOperationException exception) =>
        exception.Code() == (int)HttpStatusCode.Conflict && exception.Reason() == "AlreadyExists";

    public static bool IsInvalid(this HttpOperationException exception) => exception.Code() == (int)HttpStatusCode.UnprocessableEntity;

    public static bool IsServerError(this HttpOperationException exception) => exception.Code() >= 500;

    public static bool IsTooManyRequests(this HttpOperationException exception) => exception.Code() == (int)HttpStatusCode.TooManyRequests;

    /// <summary>410 (reason Expired or Gone): the resourceVersion is too old; relist.</summary>
    public static bool IsGone(this HttpOperationException exception) => exception.Code() == (int)HttpStatusCode.Gone;

    /// <summary>A watch's ERROR event carrying 410 (reason Expired or Gone): the resourceVersion is too old; relist.</summary>
    public static bool IsGone(this KubernetesException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Status?.Code == (int)HttpStatusCode.Gone || exception.Status?.Reason is "Expired" or "Gone";
    }

    /// <summary>"404 NotFound: message", for logs and reconcile results.</summary>
    public static string Describe(this HttpOperationException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var status = exception.Status();
        return $"{exception.Code()} {status?.Reason}: {status?.Message ?? exception.Message}";
    }
}
