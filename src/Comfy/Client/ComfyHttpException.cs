using System.Net;

namespace ComfyOperator.Comfy.Client;

/// <summary>A ComfyUI route answered with a status the call does not expect.</summary>
public class ComfyHttpException : Exception
{
    public ComfyHttpException()
    {
    }

    public ComfyHttpException(string message)
        : base(message)
    {
    }

    public ComfyHttpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ComfyHttpException(string method, string path, HttpStatusCode statusCode, string? body, string? message = null)
        : base(message ?? $"ComfyUI {method} {path} answered {(int)statusCode} {statusCode}{Snippet(body)}")
    {
        Method = method;
        Path = path;
        StatusCode = statusCode;
        Body = body;
    }

    public string Method { get; } = "";

    public string Path { get; } = "";

    public HttpStatusCode StatusCode { get; }

    /// <summary>The response body as text (may be empty or not JSON).</summary>
    public string? Body { get; }

    private static string Snippet(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return "";
        }

        var trimmed = body.Length > 300 ? body[..300] + "…" : body;
        return ": " + trimmed;
    }
}
