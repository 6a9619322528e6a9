namespace ComfyOperator.Router.Tests.Support;

public sealed record SseMessage(string? Id, string Type, string Data);
