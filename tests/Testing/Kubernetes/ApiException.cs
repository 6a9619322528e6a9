using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>An API error carrying the exact <c>Status</c> body to send.</summary>
internal sealed class ApiException : Exception
{
    public ApiException(int code, JsonObject status)
        : base(status["message"]?.GetValue<string>())
    {
        Code = code;
        Status = status;
    }

    public ApiException()
    {
        Status = [];
    }

    public ApiException(string message)
        : base(message)
    {
        Status = [];
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = [];
    }

    public int Code { get; }

    public JsonObject Status { get; }

    public int? RetryAfterSeconds { get; init; }
}
